"""Template tags that give the staff dashboard its cases cards without fund importing cases:
`{% load cases %}{% case_work user as work %}` and `{% staff_roles user as roles %}`."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from html import escape

from django import template
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, QuerySet
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from cases.models import Case, Disbursement, Hearing, TimelineEntry
from cases.queries import cases_for_user, outstanding_bonds, upcoming_hearings
from cases.services.cases import is_legal_director
from fund import money
from fund.ledger.queries import list_funds
from fund.security.roles import CASE_WORKERS, DISBURSEMENT_APPROVERS, LEDGER_WRITERS, roles_of

register = template.Library()
# The dashboard lists at most this many unassigned cases and hearings.
SHOWN = 10


@dataclass
class CaseWork:
    """What the dashboard shows a staff member of the cases: refs, counts and amounts only."""

    legal_director: bool = False
    my_cases: list[tuple[str, str, int]] = field(default_factory=list)
    hearings: list[Hearing] = field(default_factory=list)
    my_requests: list[Disbursement] = field(default_factory=list)
    open_cases: int = 0
    unassigned: list[str] = field(default_factory=list)
    unassigned_count: int = 0
    approvals_waiting: int = 0
    payments_waiting: int = 0
    bonds_out: list[str] = field(default_factory=list)
    on: date | None = None


@register.simple_tag
def staff_roles(user: User | AnonymousUser) -> list[str]:
    """Return the user's roles as people say them: a legal director is not "coordinator"."""
    names = sorted(str(role) for role in roles_of(user))
    if isinstance(user, User) and is_legal_director(user):
        names = ["legal director" if name == "coordinator" else name for name in names]
    return names


@register.simple_tag
def case_work(user: User | AnonymousUser) -> CaseWork:
    """Return the cases work waiting for the user on the dashboard."""
    today = timezone.localdate()
    work = CaseWork(on=today)
    if not isinstance(user, User):
        return work
    if CASE_WORKERS.allows(user):
        work.legal_director = is_legal_director(user)
        mine = cases_for_user(user, coordinator=user)
        work.my_cases = _by_status(mine)
        work.hearings = list(upcoming_hearings(user, days=14)[:SHOWN])
        work.my_requests = list(
            Disbursement.objects.filter(
                requested_by=user,
                status__in=(Disbursement.Status.REQUESTED, Disbursement.Status.APPROVED),
                case__in=Case.objects.for_user(user),
            )
            .select_related("case", "fund")
            .order_by("requested_at", "pk")[:SHOWN]
        )
        if work.legal_director:
            everyone = cases_for_user(user).exclude(status=Case.Status.CLOSED)
            work.open_cases = everyone.count()
            unassigned = everyone.filter(coordinators__isnull=True)
            work.unassigned_count = unassigned.count()
            work.unassigned = list(unassigned.values_list("ref", flat=True)[:SHOWN])
    if DISBURSEMENT_APPROVERS.allows(user):
        waiting = Disbursement.objects.filter(case__in=Case.objects.for_user(user))
        work.approvals_waiting = waiting.filter(status=Disbursement.Status.REQUESTED).count()
        work.payments_waiting = waiting.filter(status=Disbursement.Status.APPROVED).count()
    if LEDGER_WRITERS.allows(user):
        for fund in list_funds():
            total = sum(bond.amount_cents for bond in outstanding_bonds(fund, today))
            if total:
                work.bonds_out.append(f"{money.format_amount(total, fund.currency)} ({fund.name})")
    return work


def _by_status(cases: QuerySet[Case]) -> list[tuple[str, str, int]]:
    counts = dict(
        cases.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return [
        (value, label, counts[value]) for value, label in Case.Status.choices if counts.get(value)
    ]


@register.simple_tag
def timeline_items(
    entries: Iterable[TimelineEntry], *, sees_person: bool, editable: set[int], ref: str
) -> SafeString:
    """Render a page of the case's timeline as its list items, texts shown only to those who
    may see the person.

    Written in Python rather than as a template loop: fifty entries through the template engine
    were a quarter of the case page's time (bench/cases.py); for the same reason it escapes with
    the standard library's html.escape (what django.utils.html.escape calls) and reads each
    kind's label once rather than through get_kind_display per entry. Every value is escaped.
    """
    labels = {value: escape(str(label)) for value, label in TimelineEntry.Kind.choices}
    items = []
    for entry in entries:
        at = timezone.localtime(entry.at)
        kind = labels.get(entry.kind) or escape(entry.kind)
        item = (
            f'<li><strong>{kind}</strong> <time class="muted" datetime="{at.isoformat()}">'
            f"{at:%Y-%m-%d %H:%M}</time>"
        )
        if sees_person:
            if entry.by is not None:
                item += f' <span class="muted">by {escape(entry.by.get_username())}</span>'
            text = linebreaksbr(entry.text or "", autoescape=True)
            item += f'<div class="entry-text">{text}</div>'
            if entry.pk in editable:
                url = escape(reverse("cases_note_edit", args=[ref, entry.pk]))
                item += f'<p><a href="{url}">Edit this {kind.lower()}</a></p>'
        items.append(f"{item}</li>")
    return mark_safe("\n".join(items))  # noqa: S308 (every value above is escaped)
