"""manage.py send_hearing_reminders: enqueue the reminder of every hearing now due for one.

Run it daily (a cron job or a systemd timer, docs/cases.md); `manage.py db_worker` sends them.
Running it twice is harmless: each reminder is sent once, decided under the hearing's lock.
"""

from typing import Any

from django.core.management.base import BaseCommand

from cases.services.hearings import hearings_due_for_reminder
from cases.tasks import send_hearing_reminder


class Command(BaseCommand):
    help = "Enqueue the e-mail reminders of hearings due within HEARING_REMINDER_DAYS."

    def handle(self, *args: Any, **options: Any) -> None:
        due = hearings_due_for_reminder()
        for hearing_id in due:
            send_hearing_reminder.enqueue(hearing_id)
        self.stdout.write(f"Hearing reminders enqueued: {len(due)}.")
