"""manage.py stripe_sync --since DATE: apply Stripe events missed while the site was down."""

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from donations import stripe as gateway
from donations.services.webhooks import HANDLERS, receive_stripe_event

# Stripe's events list reaches back 30 days (its API reference, "List all events").
STRIPE_KEEPS_EVENTS_DAYS = 30


class Command(BaseCommand):
    help = (
        "Fetch the Stripe events created since a day (the events this site handles) and apply "
        "each one, exactly as the webhook would; events already received change nothing. Prints "
        "counts only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="a day, e.g. 2026-11-01")
        parser.add_argument(
            "--dry-run", action="store_true", help="count the events; apply nothing"
        )

    def handle(self, *args: Any, since: str, dry_run: bool, **options: Any) -> None:
        try:
            day = date.fromisoformat(since)
        except ValueError:
            raise CommandError(
                f"--since {since!r} is not a day like 2026-11-01.", returncode=2
            ) from None
        start = timezone.make_aware(datetime.combine(day, time.min))
        kept_from = timezone.localdate() - timedelta(days=STRIPE_KEEPS_EVENTS_DAYS)
        if day < kept_from:
            # Not an error: what Stripe still has is worth applying; the rest needs its dashboard.
            self.stderr.write(
                f"Stripe lists only the last {STRIPE_KEEPS_EVENTS_DAYS} days' events: anything "
                f"before {kept_from:%Y-%m-%d} cannot be fetched; check its dashboard for those."
            )
        counts: Counter[str] = Counter()
        try:
            for event in gateway.events_since(int(start.timestamp()), sorted(HANDLERS)):
                if dry_run:
                    counts["found"] += 1
                    continue
                try:
                    counts["applied" if receive_stripe_event(event) else "already received"] += 1
                except Exception as error:  # one bad event must not stop the rest
                    counts["failed"] += 1
                    self.stderr.write(f"{event.get('id')} ({event.get('type')}): {error}")
        except gateway.StripeError as error:
            raise CommandError(str(error), returncode=1) from None
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "no events"
        self.stdout.write(f"Stripe events since {day:%Y-%m-%d}: {summary}.")
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} event(s) failed to apply.", returncode=1)
