"""Tasks wait in the database until `manage.py db_worker` runs them."""

import io
import signal

import pytest
from django.core import mail
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.test import override_settings
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from fund.tasks import send_staff_email

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TEMPLATE = "fund/email/api_token_issued"


def run_worker(monkeypatch) -> None:
    """Run `db_worker --batch` inside the test's transaction, as the real command.

    The worker drops stale connections between tasks; inside a test transaction that would close
    the test's own connection, so that one call is made a no-op. Its signal handlers are put back.
    """
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
    handlers = {sig: signal.getsignal(sig) for sig in signals}
    try:
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO()
        )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@pytest.mark.django_db
def test_an_enqueued_staff_email_waits_in_the_database_until_the_worker_sends_it(
    coordinator, monkeypatch
):
    token = {"prefix": "dfk_AbCdEf", "name": "laptop"}
    with override_settings(TASKS=DATABASE_TASKS):
        send_staff_email.enqueue(coordinator.pk, TEMPLATE, token)
        row = DBTaskResult.objects.get()
        assert row.status == TaskResultStatus.READY
        assert row.task_path == "fund.tasks.send_staff_email"
        assert row.args_kwargs == {"args": [coordinator.pk, TEMPLATE, token], "kwargs": {}}
        assert mail.outbox == []

        run_worker(monkeypatch)

    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value is True
    [message] = mail.outbox
    assert message.to == [coordinator.email]
    assert message.subject == "A new API token was issued for your Defense Fund account"
    assert "Hello cora," in message.body
    assert 'A new API token (dfk_AbCdEf…) named "laptop" was issued' in message.body


@pytest.mark.django_db
def test_the_test_settings_run_tasks_immediately(coordinator):
    result = send_staff_email.enqueue(coordinator.pk, TEMPLATE, {"prefix": "dfk_x", "name": ""})
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert len(mail.outbox) == 1
    assert "named" not in mail.outbox[0].body


@pytest.mark.django_db
def test_no_email_goes_to_an_inactive_user_one_without_an_address_or_one_who_is_gone(
    coordinator, treasurer
):
    coordinator.is_active = False
    coordinator.save()
    treasurer.email = ""
    treasurer.save()
    for user_id in (coordinator.pk, treasurer.pk, 10**9):
        assert send_staff_email.call(user_id, TEMPLATE, {"prefix": "dfk_x"}) is False
    assert mail.outbox == []


@pytest.mark.parametrize("template", ["../settings", "fund/email/../../x", "fund/home", ""])
def test_only_email_templates_can_be_named(template):
    with pytest.raises(ValueError, match="e-mail template"):
        send_staff_email.call(1, template)
