"""Production settings without a Content Security Policy: `check --deploy` must refuse them."""

from fund.settings import *  # noqa: F403

del SECURE_CSP  # noqa: F821
