"""Background work for cases, run by `manage.py db_worker`.

Arguments are ids only: task rows are stored until a worker runs them, and must name no one.
"""

from django.tasks import task

from cases.services.hearings import remind_of_hearing


@task()
def send_hearing_reminder(hearing_id: int) -> bool:
    """E-mail a hearing's coordinators its reminder, once; False when it is not due."""
    return remind_of_hearing(hearing_id=hearing_id)
