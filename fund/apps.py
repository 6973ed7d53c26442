from django.apps import AppConfig


class FundConfig(AppConfig):
    name = "fund"
    verbose_name = "Fund ledger"

    def ready(self) -> None:
        from fund import checks  # noqa: F401  (registers the deploy checks)
