"""Production settings with inline scripts allowed: `check --deploy` must refuse them."""

from django.utils.csp import CSP

from fund.settings import *  # noqa: F403

SECURE_CSP = {
    **SECURE_CSP,  # noqa: F405
    "script-src": [*SECURE_CSP["script-src"], CSP.UNSAFE_INLINE],  # noqa: F405
}
