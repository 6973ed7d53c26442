"""The report log: every report generated, by whom, with what parameters, and its SHA-256."""

from django.conf import settings
from django.db import models

from fund.ledger.models import Fund


class ReportRun(models.Model):
    """One generated report (or one being generated in the background), kept as the report log.

    `verify_report` finds a file here by its SHA-256. The stored file lives outside any public
    URL (REPORT_ROOT) under a random name; the row says how far rendering has got.
    """

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        PDFA = "pdfa", "PDF/A-3b (with the CSV attached)"
        CSV = "csv", "CSV"
        BEANCOUNT = "beancount", "Beancount"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Rendering"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=40)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="report_runs")
    period_start = models.DateField()
    period_end = models.DateField()
    format = models.CharField(max_length=10, choices=Format.choices)
    # Everything else that shaped the file (the generation time it prints, options), as JSON.
    parameters = models.JSONField(default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="report_runs",
        help_text="Empty when generated at the command line.",
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(help_text="The generation time printed on the report.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    signed = models.BooleanField(default=False)
    # A random file name under REPORT_ROOT; empty for a file written only to the command line's -o.
    stored_name = models.CharField(max_length=64, blank=True)
    chain_head = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")),
                name="fund_reportrun_period_in_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(sha256=""),
                name="fund_reportrun_done_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.kind} #{self.pk} ({self.get_status_display()})"
