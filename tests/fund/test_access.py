"""The access log: every view or export of a sensitive record leaves a row nobody can change."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import ProtectedError

from fund.errors import AppendOnlyError
from fund.models import AccessLog
from fund.security.access import list_access_for, record_access
from tests.cryptoapp.models import Secret


@pytest.fixture
def record(db):
    return Secret.objects.create(label="case file", note="Maria Elena Ríos")


@pytest.mark.django_db
def test_recording_access_names_the_record_by_label_and_pk_only(coordinator, record):
    entry = record_access(
        user=coordinator, action=AccessLog.Action.VIEW, obj=record, detail="case page"
    )
    entry.refresh_from_db()
    assert entry.user == coordinator
    assert entry.action == "view"
    assert entry.object_type == "cryptoapp.Secret"
    assert entry.object_ref == str(record.pk)
    assert entry.detail == "case page"
    assert entry.at is not None
    assert "Maria" not in str(entry)


@pytest.mark.django_db
def test_list_access_for_returns_that_records_entries_newest_first(coordinator, treasurer, record):
    other = Secret.objects.create(label="other", note="x")
    first = record_access(user=coordinator, action="view", obj=record)
    record_access(user=coordinator, action="view", obj=other)
    second = record_access(user=treasurer, action=AccessLog.Action.EXPORT, obj=record)
    assert list(list_access_for(record)) == [second, first]
    assert [entry.user for entry in list_access_for(record)] == [treasurer, coordinator]


@pytest.mark.django_db
def test_recording_refuses_unknown_actions_anonymous_users_unsaved_records_and_long_details(
    coordinator, record
):
    with pytest.raises(ValueError, match="is not a valid"):
        record_access(user=coordinator, action="edit", obj=record)
    with pytest.raises(ValueError, match="signed-in"):
        record_access(user=AnonymousUser(), action="view", obj=record)
    with pytest.raises(ValueError, match="unsaved"):
        record_access(user=coordinator, action="view", obj=Secret(label="new"))
    with pytest.raises(ValueError, match="at most 200"):
        record_access(user=coordinator, action="view", obj=record, detail="x" * 201)
    assert AccessLog.objects.count() == 0


@pytest.mark.django_db
def test_an_entry_cannot_be_changed_or_deleted(coordinator, record):
    entry = record_access(user=coordinator, action="view", obj=record)
    entry.detail = "nothing to see"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(detail="rewritten")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.bulk_update([entry], ["detail"])
    entry.refresh_from_db()
    assert entry.detail == ""


@pytest.mark.django_db
def test_an_entry_with_a_reused_primary_key_is_not_an_update(coordinator, record):
    entry = record_access(user=coordinator, action="view", obj=record)
    forged = AccessLog(
        pk=entry.pk, user=coordinator, action="export", object_type="x", object_ref="1"
    )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        forged.save()


@pytest.mark.django_db
def test_a_user_with_access_entries_cannot_be_deleted(coordinator, record):
    record_access(user=coordinator, action="view", obj=record)
    with pytest.raises(ProtectedError):
        coordinator.delete()


@pytest.mark.django_db
def test_the_admin_shows_the_access_log_read_only(client, admin_user, coordinator, record):
    entry = record_access(user=coordinator, action="view", obj=record)
    client.force_login(admin_user)
    changelist = client.get("/admin/fund/accesslog/")
    assert changelist.status_code == 200
    assert b"cryptoapp.Secret" in changelist.content
    assert b"Add access log" not in changelist.content
    detail = client.get(f"/admin/fund/accesslog/{entry.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.get("/admin/fund/accesslog/add/").status_code == 403
    assert client.get(f"/admin/fund/accesslog/{entry.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/fund/accesslog/{entry.pk}/change/", {"detail": "x"}).status_code == 403
    )
    bulk_delete = client.post(
        "/admin/fund/accesslog/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk_delete.status_code in (200, 302)
    assert AccessLog.objects.filter(pk=entry.pk, detail="").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement", ["UPDATE fund_accesslog SET detail = 'x'", "DELETE FROM fund_accesslog"]
)
def test_raw_sql_cannot_change_or_delete_an_entry(coordinator, record, statement, as_role):
    import psycopg
    from django.db import DatabaseError, connection, transaction

    entry = record_access(user=coordinator, action="view", obj=record)
    # The app's own role has no such privilege; the owner is stopped by the trigger.
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    with pytest.raises(psycopg.Error, match="append-only"):
        as_role("owner", statement)
    entry.refresh_from_db()
    assert entry.detail == ""
