"""Deploy checks of the cases app: case documents are kept where only the app can read them."""

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_document_root(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn unless CASE_DOCUMENT_ROOT exists (or can be made), is outside every tree the web
    server or whitenoise serves, and is not readable by other users of the machine."""
    root = Path(str(settings.CASE_DOCUMENT_ROOT)).resolve()
    served = [
        (name, Path(str(folder)).resolve())
        for name, folder in (
            ("STATIC_ROOT", settings.STATIC_ROOT),
            ("MEDIA_ROOT", settings.MEDIA_ROOT),
            *(("STATICFILES_DIRS", _folder(entry)) for entry in settings.STATICFILES_DIRS),
        )
        if folder
    ]
    for name, folder in served:
        if root == folder or root.is_relative_to(folder) or folder.is_relative_to(root):
            return [
                checks.Warning(
                    f"CASE_DOCUMENT_ROOT ({root}) overlaps {name} ({folder}): case documents "
                    "could be served without a permission check. Keep them apart.",
                    id="cases.W001",
                )
            ]
    if not root.exists():
        parent = next(p for p in root.parents if p.exists())
        if not os.access(parent, os.W_OK | os.X_OK):
            return [
                checks.Warning(
                    f"CASE_DOCUMENT_ROOT ({root}) does not exist and cannot be created: "
                    "uploads will fail. Create it, owned by the app's user, mode 0700.",
                    id="cases.W002",
                )
            ]
        return []
    if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
        return [
            checks.Warning(
                f"CASE_DOCUMENT_ROOT ({root}) is not a folder the app can write to.",
                id="cases.W003",
            )
        ]
    if root.stat().st_mode & 0o007:
        return [
            checks.Warning(
                f"CASE_DOCUMENT_ROOT ({root}) is open to other users of the machine: "
                f"chmod 700 {root}.",
                id="cases.W004",
            )
        ]
    return []


def _folder(entry: str | Path | tuple[str, str | Path]) -> str | Path:
    # A STATICFILES_DIRS entry may be (prefix, folder).
    return entry[1] if isinstance(entry, tuple) else entry
