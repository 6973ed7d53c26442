from django.apps import AppConfig
from django.conf import settings


class FundConfig(AppConfig):
    name = "fund"
    verbose_name = "Fund ledger"

    def ready(self) -> None:
        from fund import checks  # noqa: F401  (registers the deploy checks)
        from fund.security import crypto, signals  # noqa: F401  (signals revoke tokens)

        if not settings.DEBUG:
            # A key that cannot be parsed stops the app now, not at the first case saved.
            crypto.keyring()
            crypto.blind_index_key()
