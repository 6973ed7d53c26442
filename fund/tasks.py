"""Background tasks of the fund app, run by `manage.py db_worker`.

Task arguments are stored in the database until a worker runs them: pass ids and values that
identify no one, never names, addresses or case details.
"""

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import Task, task
from django.template.loader import render_to_string
from django_tasks_db.backend import DatabaseBackend


def enqueue_on_commit(task_: Task[..., Any], *args: int | str) -> None:
    """Queue a task to run only if the current transaction commits.

    With the database backend (production) the task's row is written inside the transaction, so
    it commits (or rolls back) with the change that asked for it, in the same disk flush, and no
    worker sees it before. Any other backend (the tests' immediate one runs the task at once) is
    handed the task when the transaction has committed.
    """
    if isinstance(task_.get_backend(), DatabaseBackend):
        task_.enqueue(*args)
    else:
        transaction.on_commit(lambda: task_.enqueue(*args))


# "<app>/email/<name>": the pair <name>_subject.txt and <name>_body.txt in that folder.
EMAIL_TEMPLATE = re.compile(r"[a-z_]+/email/[a-z_]+")


@task()
def send_staff_email(
    user_id: int, template: str, context: dict[str, str | int] | None = None
) -> bool:
    """E-mail a staff member the message rendered from ``<template>_subject.txt`` and ``_body.txt``.

    The subject must not carry personal data: it shows in mail logs and notification previews.
    Returns False, sending nothing, when the user is gone, inactive or has no e-mail address.
    """
    if not EMAIL_TEMPLATE.fullmatch(template):
        raise ValueError("An e-mail template is named '<app>/email/<name>'.")
    user_model = get_user_model()
    try:
        user = user_model._default_manager.get(pk=user_id)
    except user_model.DoesNotExist:
        return False
    if not user.is_active or not user.email:
        return False
    values: dict[str, Any] = {**(context or {}), "user": user}
    subject = " ".join(render_to_string(f"{template}_subject.txt", values).split())
    body = render_to_string(f"{template}_body.txt", values)
    EmailMessage(subject=subject, body=body, to=[user.email]).send()
    return True


@task()
def render_report(run_id: int) -> str:
    """Render a queued report (see fund.reports.services.request_report); return its status."""
    # Imported here: the report engine loads WeasyPrint, which a worker needs only for reports.
    from fund.reports.services import render_run

    return render_run(run_id=run_id).status
