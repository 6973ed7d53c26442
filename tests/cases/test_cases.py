"""The case itself: references, the status workflow, assignment, consent, notes, facilities."""

import re
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.db import connection, transaction
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound, NoteLocked, TransitionRefused
from cases.models import Assignment, Case, CaseCounter, CaseEvent, Facility, TimelineEntry
from cases.services.cases import (
    ALLOWED,
    add_note,
    apply_status,
    assign,
    change_status,
    edit_note,
    move_facility,
    open_case,
    record_consent,
    unassign,
)
from fund.errors import IdempotencyConflict, NotAllowed
from fund.security import crypto
from fund.security.fields import EncryptedTextField
from tests.conftest import run

Status = Case.Status


def opened(actor, **fields) -> Case:
    return open_case(actor=actor, legal_name=fields.pop("legal_name", "Test Person"), **fields).case


def at_status(actor, status: str) -> Case:
    """Open a case and walk it to the status by allowed moves."""
    paths = {
        Status.INTAKE: [],
        Status.DETAINED: [Status.DETAINED],
        Status.BOND_SET: [Status.DETAINED, Status.BOND_SET],
        Status.BOND_POSTED: [Status.DETAINED, Status.BOND_SET, Status.BOND_POSTED],
        Status.RELEASED: [Status.RELEASED],
        Status.TRANSFERRED: [Status.DETAINED, Status.TRANSFERRED],
        Status.REMOVED: [Status.DETAINED, Status.REMOVED],
        Status.CLOSED: [Status.CLOSED],
    }
    case = opened(actor)
    for step in paths[status]:
        case = change_status(actor=actor, case=case, to=step)
    assert case.status == status
    return case


# References


@pytest.mark.django_db
def test_references_count_up_per_year_and_str_is_the_ref(coordinator):
    year = timezone.localdate().year
    first = opened(coordinator)
    second = opened(coordinator)

    assert (first.ref, second.ref) == (
        f"C-{year}-0001",
        f"C-{year}-0002",
    )
    assert (first.year, first.number) == (year, 1)
    assert str(second) == f"C-{year}-0002"
    assert CaseCounter.objects.get(year=year).last == 2


@pytest.mark.django_db
def test_a_rolled_back_open_gives_its_number_back(coordinator):
    year = timezone.localdate().year
    opened(coordinator)

    def open_then_fail() -> None:
        with transaction.atomic():
            opened(coordinator)
            raise RuntimeError("the request failed after opening")

    with pytest.raises(RuntimeError):
        open_then_fail()

    assert opened(coordinator).ref == f"C-{year}-0002"
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_open_takes_no_number(coordinator):
    year = timezone.localdate().year
    with pytest.raises(CaseError):
        open_case(actor=coordinator, legal_name="Test Person", a_number="12")

    assert opened(coordinator).ref == f"C-{year}-0001"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_opens_take_1_to_20_without_gap_or_duplicate(coordinator):
    year = timezone.localdate().year
    barrier = threading.Barrier(20)
    refs: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            refs.append(opened(coordinator).ref)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(refs) == [f"C-{year}-{n:04d}" for n in range(1, 21)]
    assert sorted(Case.objects.values_list("number", flat=True)) == list(range(1, 21))
    assert CaseCounter.objects.get(year=year).last == 20


# Opening


@pytest.mark.django_db
def test_opening_encrypts_the_person_assigns_the_opener_and_writes_the_timeline(coordinator):
    facility = Facility.objects.create(
        name="Invented Processing Center", city="Nowhere", state="TX"
    )

    result = open_case(
        actor=coordinator,
        legal_name="  Ana Invented  ",
        a_number="A012-345-678",
        phone="555-0100",
        union_local="Local 1",
        detained_on=timezone.localdate(),
        facility=facility,
    )

    case = Case.objects.get(pk=result.case.pk)
    assert result.duplicates == []
    assert case.status == Status.INTAKE
    assert (case.legal_name, case.a_number, case.phone) == (
        "Ana Invented",
        "A012345678",
        "555-0100",
    )
    assert case.a_number_index == crypto.a_number_index("12345678", context="cases.Case.a_number")
    assert (case.facility, case.detained_at, case.union_local) == (facility, facility, "Local 1")
    assert list(case.coordinators.all()) == [coordinator]
    entry = case.timeline.get()
    assert (entry.kind, entry.text, entry.by) == (
        TimelineEntry.Kind.OPENED,
        "Case opened.",
        coordinator,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT legal_name, a_number FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()
    assert "Ana" not in stored[0]
    assert "345" not in stored[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        "A012345678",
        "a 012 345 678",
        "012-345-678",
        "12345678",
        "A12.345.678",
        "\uff21\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
    ],
)
def test_a_numbers_typed_any_way_are_one_number(coordinator, typed):
    case = opened(coordinator, a_number=typed)

    assert case.a_number == "A012345678"
    assert case.a_number_index == crypto.a_number_index("A012345678", context="cases.Case.a_number")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed", ["1234567", "A1234567890", "A12345678X", "B12345678", "A00000000"]
)
def test_a_malformed_a_number_is_refused_without_echoing_it(coordinator, typed):
    with pytest.raises(CaseError) as refused:
        open_case(actor=coordinator, legal_name="Test Person", a_number=typed)

    assert (
        str(refused.value) == "An A-number has 8 or 9 digits, optionally after an A (A012-345-678)."
    )
    assert typed not in str(refused.value)
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_duplicate_a_number_is_a_warning_with_the_refs_the_opener_may_see(
    coordinator, other_coordinator, legal_director
):
    year = timezone.localdate().year
    mine = opened(coordinator, a_number="A012345678")
    opened(other_coordinator, a_number="12345678")

    second = open_case(actor=coordinator, legal_name="Test Person", a_number="012-345-678")
    as_director = open_case(actor=legal_director, legal_name="Test Person", a_number="A012345678")

    assert second.case.pk is not None
    assert (second.duplicates, second.hidden_duplicates) == ([mine.ref], 1)
    assert as_director.duplicates == [
        f"C-{year}-0001",
        f"C-{year}-0002",
        f"C-{year}-0003",
    ]
    assert as_director.hidden_duplicates == 0
    assert opened(coordinator, a_number="A987654321").ref == f"C-{year}-0005"


@pytest.mark.django_db
def test_only_coordinators_open_cases_and_a_name_is_required(coordinator, treasurer, admin_user):
    for actor in (treasurer, admin_user):
        with pytest.raises(
            NotAllowed, match=re.escape("Only legal coordinators can open and work cases.")
        ):
            opened(actor)
    with pytest.raises(CaseError, match=re.escape("A case needs the person's legal name.")):
        open_case(actor=coordinator, legal_name="   ")
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_legal_director_opens_for_others_but_a_coordinator_cannot(
    coordinator, other_coordinator, legal_director, treasurer
):
    case = opened(legal_director, coordinators=[coordinator, other_coordinator])

    assert set(case.coordinators.all()) == {coordinator, other_coordinator}
    with pytest.raises(
        NotAllowed,
        match=re.escape("Only a legal director can assign a case to other coordinators."),
    ):
        opened(coordinator, coordinators=[other_coordinator])
    with pytest.raises(
        CaseError, match=re.escape("Only a legal coordinator can be assigned a case.")
    ):
        opened(legal_director, coordinators=[treasurer])
    assert list(opened(coordinator, coordinators=[coordinator]).coordinators.all()) == [coordinator]


# The status workflow


ALL_MOVES = [(start, to) for start, targets in ALLOWED.items() for to in sorted(targets)]


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "to"), ALL_MOVES)
def test_every_allowed_move_works_and_is_on_the_timeline(coordinator, start, to):
    case = at_status(coordinator, start)

    moved = change_status(actor=coordinator, case=case, to=to, note="Hearing went well.")

    assert Case.objects.get(pk=case.pk).status == to == moved.status
    entry = moved.timeline.filter(kind=TimelineEntry.Kind.STATUS).order_by("-pk").first()
    assert entry is not None
    assert entry.by == coordinator
    assert entry.text == (
        f"Status changed from {Status(start).label.lower()} to {Status(to).label.lower()}.\n"
        "Hearing went well."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "to", "message"),
    [
        (
            Status.DETAINED,
            Status.BOND_POSTED,
            "A case that is detained can move to: bond set, released, transferred, removed, "
            "closed.",
        ),
        (
            Status.INTAKE,
            Status.BOND_SET,
            "A case that is intake can move to: detained, released, closed.",
        ),
        (
            Status.BOND_POSTED,
            Status.DETAINED,
            "A case that is bond posted can move to: released, closed.",
        ),
        (Status.REMOVED, Status.RELEASED, "A case that is removed can move to: closed."),
        (Status.CLOSED, Status.DETAINED, "A case that is closed cannot change status."),
    ],
)
def test_an_illegal_move_is_refused_naming_the_allowed_ones(coordinator, start, to, message):
    case = at_status(coordinator, start)
    entries = case.timeline.count()

    with pytest.raises(TransitionRefused) as refused:
        change_status(actor=coordinator, case=case, to=to)

    assert str(refused.value) == message
    assert Case.objects.get(pk=case.pk).status == start
    assert case.timeline.count() == entries


@pytest.mark.django_db
def test_closing_sets_closed_on_and_moving_to_the_same_status_changes_nothing(coordinator):
    case = at_status(coordinator, Status.RELEASED)
    entries = case.timeline.count()

    assert (
        change_status(actor=coordinator, case=case, to=Status.RELEASED).timeline.count() == entries
    )
    closed = change_status(actor=coordinator, case=case, to=Status.CLOSED)

    assert Case.objects.get(pk=case.pk).closed_on == timezone.localdate() == closed.closed_on
    assert Case.objects.get(pk=case.pk).status == Status.CLOSED


@pytest.mark.django_db
def test_a_status_change_is_refused_out_of_scope_and_to_other_roles(
    coordinator, other_coordinator, treasurer
):
    case = opened(coordinator)

    with pytest.raises(CaseNotFound):
        change_status(actor=other_coordinator, case=case, to=Status.DETAINED)
    with pytest.raises(NotAllowed):
        change_status(actor=treasurer, case=case, to=Status.DETAINED)
    with pytest.raises(CaseError, match=re.escape("That is not a case status.")):
        change_status(actor=coordinator, case=case, to="vanished")
    assert Case.objects.get(pk=case.pk).status == Status.INTAKE


# Assignment


@pytest.mark.django_db
def test_a_legal_director_or_an_admin_assigns_and_unassigns(
    coordinator, other_coordinator, legal_director, admin_user
):
    case = opened(coordinator)

    assignment = assign(actor=legal_director, case=case, coordinator=other_coordinator)
    again = assign(actor=admin_user, case=case, coordinator=other_coordinator)

    assert again == assignment
    assert assignment.assigned_by == legal_director
    assert set(case.coordinators.all()) == {coordinator, other_coordinator}
    unassign(actor=admin_user, case=case, coordinator=coordinator)
    assert list(case.coordinators.all()) == [other_coordinator]
    texts = list(
        case.timeline.filter(kind=TimelineEntry.Kind.ASSIGNMENT)
        .order_by("pk")
        .values_list("by", flat=True)
    )
    assert texts == [legal_director.pk, admin_user.pk]
    assert [
        e.text for e in case.timeline.filter(kind=TimelineEntry.Kind.ASSIGNMENT).order_by("pk")
    ] == [
        "Assigned to cole.",
        "Unassigned cora.",
    ]


@pytest.mark.django_db
def test_assignment_rules(coordinator, other_coordinator, legal_director, treasurer):
    case = opened(coordinator)

    with pytest.raises(
        NotAllowed, match=re.escape("Only a legal director or an admin can assign cases.")
    ):
        assign(actor=coordinator, case=case, coordinator=other_coordinator)
    with pytest.raises(
        NotAllowed, match=re.escape("Only a legal director or an admin can assign cases.")
    ):
        assign(actor=treasurer, case=case, coordinator=other_coordinator)
    with pytest.raises(
        CaseError, match=re.escape("Only a legal coordinator can be assigned a case.")
    ):
        assign(actor=legal_director, case=case, coordinator=treasurer)
    with pytest.raises(CaseError, match=re.escape(f"{case.ref} keeps at least one coordinator")):
        unassign(actor=legal_director, case=case, coordinator=coordinator)
    assert list(Assignment.objects.filter(case=case).values_list("coordinator", flat=True)) == [
        coordinator.pk
    ]


# Consent


@pytest.mark.django_db
def test_consent_records_who_when_and_what_from_the_list(coordinator):
    case = opened(coordinator)

    recorded = record_consent(actor=coordinator, case=case, scope=["attorney", "bond"])
    again = record_consent(actor=coordinator, case=case, scope=["bond", "attorney"])

    case.refresh_from_db()
    assert (case.consent_by, case.consent_scope) == (coordinator, "bond,attorney")
    assert case.consented_to == [
        "Pay and post an immigration bond",
        "Pay an attorney and filing fees",
    ]
    assert case.consent_at is not None
    assert recorded.consent_at == again.consent_at == case.consent_at
    assert case.timeline.filter(kind=TimelineEntry.Kind.CONSENT).get().text == (
        "Consent recorded: Pay and post an immigration bond; Pay an attorney and filing fees."
    )


@pytest.mark.django_db
def test_consent_is_chosen_from_the_list_never_typed(coordinator):
    case = opened(coordinator)

    with pytest.raises(CaseError, match=re.escape("Choose what the person consented to.")):
        record_consent(actor=coordinator, case=case, scope=[])
    with pytest.raises(CaseError, match="not Maria may call"):
        record_consent(actor=coordinator, case=case, scope=["bond", "Maria may call"])

    case.refresh_from_db()
    assert (case.consent_scope, case.consent_at) == ("", None)
    assert not case.timeline.filter(kind=TimelineEntry.Kind.CONSENT).exists()


# Notes


@pytest.mark.django_db
def test_the_author_edits_a_note_within_15_minutes_and_the_earlier_text_is_kept(coordinator):
    case = opened(coordinator)
    note = add_note(actor=coordinator, case=case, text="Called the family.")

    edited = edit_note(actor=coordinator, entry=note, text="Called the family; they will visit.")

    edited.refresh_from_db()
    assert edited.text == "Called the family; they will visit."
    assert edited.edited_at is not None
    earlier = case.timeline.filter(kind=TimelineEntry.Kind.NOTE, by=None).get()
    assert earlier.text.endswith("\nCalled the family.")
    assert earlier.text.startswith("Earlier text of the note of ")
    with pytest.raises(NoteLocked, match=re.escape("Only the note's author can edit it.")):
        edit_note(actor=coordinator, entry=earlier, text="rewriting history")


@pytest.mark.django_db
def test_a_note_is_locked_after_15_minutes(coordinator):
    case = opened(coordinator)
    call = add_note(
        actor=coordinator, case=case, kind=TimelineEntry.Kind.CALL, text="Spoke to attorney."
    )
    TimelineEntry.objects.filter(pk=call.pk).update(
        at=timezone.now() - timedelta(minutes=15, seconds=1)
    )

    with pytest.raises(NoteLocked) as refused:
        edit_note(actor=coordinator, entry=call, text="changed")

    assert str(refused.value) == (
        "A note can be edited for 15 minutes after it is written; add a new note instead."
    )
    call.refresh_from_db()
    assert (call.text, call.edited_at) == ("Spoke to attorney.", None)


@pytest.mark.django_db
def test_only_the_author_edits_a_note_and_only_notes_are_edited(
    coordinator, other_coordinator, legal_director
):
    case = opened(coordinator)
    assign(actor=legal_director, case=case, coordinator=other_coordinator)
    note = add_note(actor=coordinator, case=case, text="First visit done.")

    for actor in (other_coordinator, legal_director):
        with pytest.raises(NoteLocked, match=re.escape("Only the note's author can edit it.")):
            edit_note(actor=actor, entry=note, text="changed")
    with pytest.raises(NoteLocked, match=re.escape("Only notes and calls can be edited.")):
        edit_note(
            actor=coordinator, entry=case.timeline.get(kind=TimelineEntry.Kind.OPENED), text="x"
        )
    note.refresh_from_db()
    assert (note.text, note.edited_at) == ("First visit done.", None)


@pytest.mark.django_db
def test_notes_need_text_and_scope(coordinator, other_coordinator):
    case = opened(coordinator)

    with pytest.raises(CaseError, match=re.escape("A note needs some text.")):
        add_note(actor=coordinator, case=case, text="  ")
    with pytest.raises(CaseError, match=re.escape("A note is a note or a call.")):
        add_note(actor=coordinator, case=case, kind=TimelineEntry.Kind.BOND, text="x")
    with pytest.raises(CaseNotFound):
        add_note(actor=other_coordinator, case=case, text="x")
    note = add_note(actor=coordinator, case=case, text="ok")
    with pytest.raises(CaseNotFound):
        edit_note(actor=other_coordinator, entry=note, text="x")


# Facilities


@pytest.mark.django_db
def test_moving_facility_transfers_a_detained_case(coordinator):
    first = Facility.objects.create(name="Invented Center A")
    second = Facility.objects.create(name="Invented Center B")
    case = opened(coordinator, facility=first)
    case = change_status(actor=coordinator, case=case, to=Status.DETAINED)

    moved = move_facility(actor=coordinator, case=case, facility=second, note="By bus overnight.")

    assert (moved.facility, moved.status) == (second, Status.TRANSFERRED)
    texts = [e.text for e in moved.timeline.filter(kind=TimelineEntry.Kind.STATUS).order_by("pk")]
    assert texts[-2:] == [
        "Moved from Invented Center A to Invented Center B.\nBy bus overnight.",
        "Status changed from detained to transferred.",
    ]
    assert move_facility(actor=coordinator, case=moved, facility=second).timeline.count() == len(
        moved.timeline.all()
    )


@pytest.mark.django_db
def test_moving_facility_keeps_a_status_that_cannot_be_transferred(coordinator):
    place = Facility.objects.create(name="Invented Center A")
    case = opened(coordinator)

    moved = move_facility(actor=coordinator, case=case, facility=place)

    assert (moved.facility, moved.status) == (place, Status.INTAKE)


def write(tmp_path, text: str, name: str = "facilities.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.django_db
def test_import_facilities_adds_and_updates_by_name(tmp_path):
    Facility.objects.create(name="Invented Center A", city="Old Town", state="TX")
    Facility.objects.create(name="Invented Center B", city="Elsewhere", state="AZ")

    out = run(
        "import_facilities",
        write(
            tmp_path,
            "name,city,state\n"
            "Invented Center A,New Town,tx\n"
            "Invented Center B,Elsewhere,AZ\n"
            "\n"
            "Invented Center C,Faraway,NM\n",
        ),
    )

    assert out == "Facilities: 1 added, 1 updated, 1 unchanged.\n"
    assert list(Facility.objects.values_list("name", "city", "state")) == [
        ("Invented Center A", "New Town", "TX"),
        ("Invented Center B", "Elsewhere", "AZ"),
        ("Invented Center C", "Faraway", "NM"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty."),
        ("facility,town\nX,Y\n", "the first row must be the header name,city,state."),
        ("name,city,state\nGood One,A,TX\n,B,TX\n", "Row 3: a facility needs a name."),
        (
            "name,city,state\nGood One,A,TX\nBad One,B,Texas\n",
            "Row 3: a state is two letters, like TX.",
        ),
        (
            "name,city,state\nGood One,A,TX\nBad One,B\n",
            "Row 3: expected 3 values (name,city,state), got 2.",
        ),
        (
            "name,city,state\nGood One,A,TX\nGood One,B,TX\n",
            "Row 3: Good One is already on row 2.",
        ),
        (
            "name,city,state\nGood One,A,TX\n" + "X" * 201 + ",B,TX\n",
            "Row 3: a name is at most 200",
        ),
    ],
)
def test_a_bad_facility_file_imports_nothing_and_names_the_row(tmp_path, text, message):
    with pytest.raises(CommandError) as refused:
        run("import_facilities", write(tmp_path, text))

    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not Facility.objects.exists()


@pytest.mark.django_db
def test_a_missing_or_binary_facility_file_is_refused(tmp_path):
    binary = tmp_path / "facilities.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")

    with pytest.raises(CommandError, match=re.escape("no such file")):
        run("import_facilities", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match=re.escape("not a UTF-8 text file")):
        run("import_facilities", str(binary))


# History


def test_case_history_keeps_no_encrypted_column_and_no_a_number_index():
    names = {f.name for f in CaseEvent._meta.get_fields()}
    encrypted = {f.name for f in Case._meta.concrete_fields if isinstance(f, EncryptedTextField)}

    assert encrypted >= {"legal_name", "a_number", "date_of_birth", "phone", "family_contact"}
    assert names.isdisjoint(encrypted)
    assert "a_number_index" not in names
    assert not any(isinstance(f, EncryptedTextField) for f in CaseEvent._meta.concrete_fields)
    assert {"ref", "status", "closed_on"} <= names


# The helper other services call


@pytest.mark.django_db
def test_apply_status_can_skip_a_move_it_does_not_allow(coordinator):
    case = opened(coordinator)

    with transaction.atomic():
        same = apply_status(case=case, to=Status.BOND_POSTED, actor=None, only_if_allowed=True)
        with pytest.raises(TransitionRefused):
            apply_status(case=case, to=Status.BOND_POSTED, actor=None)
        moved = apply_status(case=case, to=Status.DETAINED, actor=None, note="From the bond desk.")

    assert same.status == Status.INTAKE
    assert Case.objects.get(pk=case.pk).status == Status.DETAINED == moved.status
    assert case.timeline.filter(kind=TimelineEntry.Kind.STATUS, by=None).count() == 1


def test_opening_with_one_key_twice_opens_one_case_and_takes_one_number(coordinator):
    first = open_case(actor=coordinator, legal_name="Ana Ejemplo", idempotency_key="form-7")
    again = open_case(actor=coordinator, legal_name="Ana Ejemplo", idempotency_key="form-7")

    assert again.case == first.case
    assert Case.objects.count() == 1
    assert CaseCounter.objects.get().last == 1
    with pytest.raises(IdempotencyConflict, match="already used to open another case"):
        open_case(actor=coordinator, legal_name="Bo Muestra", idempotency_key="form-7")
    assert Case.objects.count() == 1
