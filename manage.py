#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    """Run administrative tasks; a configuration error is one line on stderr and exit status 1."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fund.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        sys.exit(f"ImproperlyConfigured: {error}")


if __name__ == "__main__":
    main()
