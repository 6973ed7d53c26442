"""Need-to-know: who finds which case, who sees the person, and that the person leaks nowhere."""

import logging
import re

import pytest
from django.db import connection

from cases.errors import CaseNotFound
from cases.models import Case, Facility, TimelineEntry
from cases.queries import case_for_user, cases_for_user, person_if_allowed, person_of
from cases.services.cases import (
    add_note,
    assign,
    change_status,
    edit_note,
    move_facility,
    open_case,
    record_consent,
)
from fund.errors import NotAllowed
from fund.security.models import AccessLog

CANARY_NAME = "Zyxwvut Canaryname"
CANARY_A_NUMBER = "A246813579"
CANARY_DIGITS = "246813579"


def opened(actor, name: str = "Test Person", **fields) -> Case:
    return open_case(actor=actor, legal_name=name, **fields).case


@pytest.fixture
def cases(coordinator, other_coordinator):
    """Two cases of cora's, one of cole's."""
    return (
        opened(coordinator, "Ana Invented", a_number="A111111111"),
        opened(coordinator, "Beto Invented", other_names="Roberto"),
        opened(other_coordinator, "Cruz Invented", a_number="A222222222"),
    )


@pytest.mark.django_db
def test_a_coordinator_finds_only_assigned_cases(coordinator, cases):
    mine, also_mine, theirs = cases

    assert list(cases_for_user(coordinator)) == [also_mine, mine]
    assert case_for_user(coordinator, mine.ref) == mine
    assert case_for_user(coordinator, str(mine.pk)) == mine
    assert case_for_user(coordinator, mine.ref.lower()) == mine
    for key in (theirs.ref, theirs.pk, "C-1999-0001", "nonsense", "99999"):
        with pytest.raises(CaseNotFound, match=re.escape("There is no such case.")):
            case_for_user(coordinator, key)


@pytest.mark.django_db
def test_legal_directors_admins_treasurers_and_auditors_find_every_case(
    legal_director, admin_user, treasurer, auditor, cases
):
    for user in (legal_director, admin_user, treasurer, auditor):
        assert set(cases_for_user(user)) == set(cases)
        assert case_for_user(user, cases[2].ref) == cases[2]


@pytest.mark.django_db
def test_an_outsider_finds_no_case(outsider, cases):
    assert list(cases_for_user(outsider)) == []
    with pytest.raises(CaseNotFound):
        case_for_user(outsider, cases[0].ref)


@pytest.mark.django_db
def test_the_case_list_filters_by_status_facility_and_coordinator(
    coordinator, other_coordinator, legal_director, cases
):
    mine, also_mine, theirs = cases
    place = Facility.objects.create(name="Invented Center")
    change_status(actor=coordinator, case=mine, to=Case.Status.DETAINED)
    move_facility(actor=other_coordinator, case=theirs, facility=place)

    assert list(cases_for_user(legal_director, status=Case.Status.DETAINED)) == [mine]
    assert list(cases_for_user(legal_director, facility=place)) == [theirs]
    assert list(cases_for_user(legal_director, coordinator=coordinator)) == [also_mine, mine]
    assert list(cases_for_user(coordinator, coordinator=other_coordinator)) == []


@pytest.mark.django_db
def test_everyone_in_scope_searches_by_ref(coordinator, treasurer, cases):
    mine, _also_mine, theirs = cases

    assert list(cases_for_user(coordinator, search=mine.ref)) == [mine]
    assert list(cases_for_user(treasurer, search=theirs.ref.lower())) == [theirs]
    assert list(cases_for_user(coordinator, search=theirs.ref)) == []
    assert len(cases_for_user(treasurer, search=mine.ref[:6])) == 3


@pytest.mark.django_db
def test_only_those_who_see_the_person_search_by_name_or_a_number(
    coordinator, legal_director, treasurer, auditor, cases
):
    mine, also_mine, theirs = cases

    assert list(cases_for_user(coordinator, search="ana inv")) == [mine]
    assert list(cases_for_user(coordinator, search="roberto")) == [also_mine]
    assert list(cases_for_user(coordinator, search="Cruz")) == []
    assert list(cases_for_user(coordinator, search="111-111-111")) == [mine]
    assert list(cases_for_user(coordinator, search="A222222222")) == []
    assert list(cases_for_user(legal_director, search="cruz")) == [theirs]
    assert list(cases_for_user(legal_director, search="a 222 222 222")) == [theirs]
    for user in (treasurer, auditor):
        assert list(cases_for_user(user, search="Ana")) == []
        assert list(cases_for_user(user, search="A111111111")) == []


@pytest.mark.django_db
def test_assigned_coordinators_directors_and_admins_see_the_person_and_it_is_logged(
    coordinator, legal_director, admin_user, cases
):
    mine = cases[0]

    for user in (coordinator, legal_director, admin_user):
        person = person_of(user, mine)
        assert (person.ref, person.legal_name, person.a_number) == (
            mine.ref,
            "Ana Invented",
            "A111111111",
        )
        assert repr(person) == f"PersonDetails({mine.ref})"

    logged = AccessLog.objects.order_by("pk")
    assert [
        (row.user, row.action, row.object_type, row.object_ref, row.detail) for row in logged
    ] == [
        (user, AccessLog.Action.VIEW, "cases.Case", str(mine.pk), "case details")
        for user in (coordinator, legal_director, admin_user)
    ]


@pytest.mark.django_db
def test_treasurers_and_auditors_are_refused_the_person_and_others_do_not_find_it(
    other_coordinator, treasurer, auditor, outsider, cases
):
    mine = cases[0]

    for user in (treasurer, auditor):
        with pytest.raises(NotAllowed) as refused:
            person_of(user, mine)
        assert str(refused.value) == (
            "Treasurers and auditors see a case's reference and money, not the person."
        )
    for user in (other_coordinator, outsider):
        with pytest.raises(CaseNotFound):
            person_of(user, mine)
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_person_if_allowed_answers_none_where_person_of_refuses_and_logs_only_a_read(
    coordinator, other_coordinator, legal_director, treasurer, auditor, outsider, cases
):
    mine = cases[0]

    for user in (other_coordinator, treasurer, auditor, outsider):
        assert person_if_allowed(user, mine, detail="case page") is None
    assert not AccessLog.objects.exists()
    for user in (coordinator, legal_director):
        person = person_if_allowed(user, mine, detail="case page")
        assert person is not None
        assert (person.ref, person.legal_name) == (mine.ref, "Ana Invented")
    assert [(row.user, row.detail) for row in AccessLog.objects.order_by("pk")] == [
        (coordinator, "case page"),
        (legal_director, "case page"),
    ]


@pytest.mark.django_db
def test_a_coordinator_sees_a_person_once_assigned_and_not_after(
    coordinator, other_coordinator, legal_director, cases
):
    from cases.services.cases import unassign

    theirs = cases[2]
    with pytest.raises(CaseNotFound):
        person_of(coordinator, theirs)

    assign(actor=legal_director, case=theirs, coordinator=coordinator)
    assert person_of(coordinator, theirs).legal_name == "Cruz Invented"
    unassign(actor=legal_director, case=theirs, coordinator=coordinator)
    with pytest.raises(CaseNotFound):
        person_of(coordinator, theirs)


def text_in_table(table: str, needles: tuple[str, ...]) -> list[str]:
    """Return the columns of a table whose text holds one of the needles (case-insensitively)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND data_type IN ('text', 'character varying', 'jsonb', 'json')",
            [table],
        )
        columns = [row[0] for row in cursor.fetchall()]
        found = []
        for column in columns:
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column}: {needle}")
    return found


@pytest.mark.django_db
def test_a_canary_person_appears_nowhere_in_clear(
    coordinator, other_coordinator, legal_director, treasurer, caplog
):
    caplog.set_level(logging.DEBUG)
    place = Facility.objects.create(name="Invented Center A")
    other = Facility.objects.create(name="Invented Center B")

    result = open_case(
        actor=coordinator,
        legal_name=CANARY_NAME,
        other_names=CANARY_NAME,
        a_number=CANARY_A_NUMBER,
        family_contact=f"{CANARY_NAME}'s sister",
        facility=place,
    )
    case = result.case
    duplicate = open_case(actor=coordinator, legal_name=CANARY_NAME, a_number=CANARY_A_NUMBER)
    assert duplicate.duplicates == [case.ref]
    change_status(
        actor=coordinator, case=case, to=Case.Status.DETAINED, note=f"{CANARY_NAME} moved"
    )
    move_facility(actor=coordinator, case=case, facility=other)
    assign(actor=legal_director, case=case, coordinator=other_coordinator)
    record_consent(actor=coordinator, case=case, scope=["bond", "attorney"])
    note = add_note(actor=coordinator, case=case, text=f"Met {CANARY_NAME}, {CANARY_A_NUMBER}.")
    edit_note(actor=coordinator, entry=note, text=f"Met {CANARY_NAME} today.")
    assert list(cases_for_user(coordinator, search=CANARY_NAME)) == [duplicate.case, case]
    assert list(cases_for_user(coordinator, search=CANARY_DIGITS)) == [duplicate.case, case]
    for user in (coordinator, other_coordinator, legal_director):
        assert person_of(user, case).legal_name == CANARY_NAME
    with pytest.raises(NotAllowed) as refused:
        person_of(treasurer, case)
    assert CANARY_NAME not in str(refused.value)
    assert CANARY_NAME not in str(case) + repr(case) + repr(person_of(coordinator, case))
    assert TimelineEntry.objects.filter(case=case).count() >= 8

    needles = (CANARY_NAME, "Canaryname", CANARY_DIGITS)
    history = [t for t in connection.introspection.table_names() if t.endswith("event")]
    tasks = [t for t in connection.introspection.table_names() if t.startswith("django_tasks")]
    assert "cases_caseevent" in history
    assert "fund_accesslog" in connection.introspection.table_names()
    # The scan finds what is stored in clear (a facility's name is not about a person).
    assert text_in_table("cases_facility", ("Invented Center A",)) == [
        "cases_facility.name: Invented Center A"
    ]
    for table in ["fund_accesslog", *history, *tasks]:
        assert text_in_table(table, needles) == []
    # Nor anywhere else in the database: every stored copy is ciphertext.
    everywhere = [
        found
        for table in connection.introspection.table_names()
        for found in text_in_table(table, needles)
    ]
    assert everywhere == []
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    for needle in needles:
        assert needle not in logged
        assert needle not in caplog.text
