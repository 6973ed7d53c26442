"""The case board and a case's page with 1,000 and with 10,000 cases (10k and 100k timeline
entries): queries per page and server time.

    python tests/pg.py --durable -- .venv/bin/python bench/cases.py

Fills the cases with bulk_create (the encrypted fields encrypt on bulk_create; references,
numbers and the year's CaseCounter as open_case would leave them), assigned round-robin to 20
coordinators, each case with ten timeline entries except one heavy case with 1,000, and one
future hearing on every third case. Then, through Django's test Client (the whole request:
middleware, view, template), as a coordinator (their own cases) and as a legal director (all
cases): the board's first page, a page filtered by status, a search by reference, and the heavy
case's page. Prints the queries of each (django.test.utils.CaptureQueriesContext), the median,
min and max wall time over the repeats, and the median CPU time of the Django process (less
inflated than wall time when other work shares the cores; it leaves out PostgreSQL's share).
Exits non-zero if a page's query count differs between the two sizes (the "fixed number" of
issue 10) or a median at the larger size is over the 50 ms budget.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta

# A server keeps its database connection between requests (CONN_MAX_AGE defaults to 60 s); with
# 0 every request would reconnect, and the test Client's request_finished would close the
# connection the queries are counted on.
os.environ["CONN_MAX_AGE"] = "60"

from common import machine, setup

COORDINATORS = 20
ENTRIES_PER_CASE = 10
HEAVY_ENTRIES = 1_000
BATCH = 2_000
BUDGET_MS = 50.0
YEAR = 2026
PLAIN_STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"


def users():  # type: ignore[no-untyped-def]
    """Twenty coordinators and a legal director, each with a second factor (the site asks)."""
    import pyotp
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.models import Group, Permission, User

    from fund.security.roles import StaffRole

    group = Group.objects.get_or_create(name=StaffRole.COORDINATOR.value)[0]
    made = []
    for name in [f"coord{i:02d}" for i in range(COORDINATORS)] + ["director"]:
        user = User.objects.create_user(username=name, email=f"{name}@example.org")
        user.groups.add(group)
        TOTP.activate(user, pyotp.random_base32())
        made.append(user)
    director = made.pop()
    director.user_permissions.add(
        Permission.objects.get(content_type__app_label="cases", codename="view_all_cases")
    )
    return made, User.objects.get(pk=director.pk)


def fill(first: int, last: int, coordinators, facilities, heavy: bool) -> float:  # type: ignore[no-untyped-def]
    """Add cases number first..last (and their assignments, timeline entries and hearings)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from cases.models import Assignment, Case, CaseCounter, Hearing, TimelineEntry
    from fund.ledger.privileges import as_owner

    statuses = [s for s in Case.Status.values if s != Case.Status.CLOSED]
    start = time.perf_counter()
    soon = timezone.now() + timedelta(days=30)
    for low in range(first, last + 1, BATCH):
        high = min(low + BATCH - 1, last)
        with transaction.atomic():
            cases = Case.objects.bulk_create(
                Case(
                    ref=f"C-{YEAR}-{n:04d}",
                    year=YEAR,
                    number=n,
                    status=statuses[n % len(statuses)],
                    legal_name=f"Benchmark Person {n}",
                    a_number=f"A{n:09d}",
                    detained_on=date(2026, 1, 1) + timedelta(days=n % 300),
                    facility=facilities[n % len(facilities)],
                )
                for n in range(low, high + 1)
            )
            Assignment.objects.bulk_create(
                Assignment(case=case, coordinator=coordinators[case.number % COORDINATORS])
                for case in cases
            )
            entries = []
            for case in cases:
                count = HEAVY_ENTRIES if heavy and case.number == 1 else ENTRIES_PER_CASE
                by = coordinators[case.number % COORDINATORS]
                entries.extend(
                    TimelineEntry(
                        case=case,
                        kind=TimelineEntry.Kind.NOTE,
                        text=f"Benchmark note {i} on the case.",
                        by=by,
                    )
                    for i in range(count)
                )
            TimelineEntry.objects.bulk_create(entries, batch_size=BATCH)
            Hearing.objects.bulk_create(
                Hearing(
                    case=case,
                    at=soon + timedelta(hours=case.number % 500),
                    court="Benchmark Immigration Court",
                    kind=Hearing.Kind.MASTER,
                )
                for case in cases
                if case.number % 3 == 0
            )
            CaseCounter.objects.update_or_create(year=YEAR, defaults={"last": high})
    with as_owner(connection), connection.cursor() as cursor:
        for table in ("cases_case", "cases_assignment", "cases_timelineentry", "cases_hearing"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - start


def measure(
    client, url: str, repeat: int, search: str = ""
) -> tuple[int, float, float, float, float]:  # type: ignore[no-untyped-def]
    """Return the queries of one request, the median, min and max wall milliseconds, and the
    median CPU milliseconds of this (the Django) process: what a loaded machine inflates less.
    A search is POSTed, as the board's form does."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    def fetch():  # type: ignore[no-untyped-def]
        return client.post(url, {"search": search}) if search else client.get(url)

    for _ in range(3):
        response = fetch()
        if response.status_code != 200:
            sys.exit(f"bench: {url} answered {response.status_code}")
    # The request's start empties the query log (django.db.reset_queries): empty it first too,
    # or the context would count from where the log stood before.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        fetch()
    # Counted now: the context reads the log lazily, and the next request empties it.
    queries = len(captured)
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fetch()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return queries, statistics.median(samples), min(samples), max(samples), statistics.median(cpu)


def pages(coordinator, director):  # type: ignore[no-untyped-def]
    from django.test import Client
    from django.urls import reverse

    as_coordinator = Client(HTTP_HOST="localhost")
    as_coordinator.force_login(coordinator)
    as_director = Client(HTTP_HOST="localhost")
    as_director.force_login(director)
    board = reverse("cases_board")
    heavy = reverse("cases_case_detail", args=[f"C-{YEAR}-0001"])
    return [
        ("board, coordinator", as_coordinator, board, ""),
        ("board, legal director", as_director, board, ""),
        ("board by status, director", as_director, f"{board}?status=detained", ""),
        ("board search by ref, director", as_director, board, f"C-{YEAR}-0042"),
        ("heavy case page, coordinator", as_coordinator, heavy, ""),
        ("heavy case page, director", as_director, heavy, ""),
    ]


def report(label: str, size: int, rows) -> dict[str, int]:  # type: ignore[no-untyped-def]
    print(f"{size:,} cases ({label}):")
    counts = {}
    for name, (queries, median, low, high, cpu) in rows:
        counts[name] = queries
        print(
            f"  {name:32} {queries:3} queries, {median:7.2f} ms median "
            f"(min {low:.2f}, max {high:.2f}; Python CPU {cpu:.2f} ms median)"
        )
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000, help="cases in the first measure")
    parser.add_argument("--large", type=int, default=10_000, help="cases in the second")
    parser.add_argument("--repeat", type=int, default=30, help="requests per page and size")
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.test.utils import override_settings

    from cases.models import Facility, TimelineEntry

    # Production serves static files from collectstatic's manifest; the benchmark has none.
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC}}
    override_settings(STORAGES=storages).enable()

    print(f"machine: {machine()}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    coordinators, director = users()
    facilities = [
        Facility.objects.create(name=f"Benchmark Center {i}", city="Adelanto", state="CA")
        for i in range(10)
    ]
    seconds = fill(1, args.small, coordinators, facilities, heavy=True)
    print(
        f"filled {args.small:,} cases, {TimelineEntry.objects.count():,} entries in {seconds:.0f} s"
    )
    small = [
        (name, measure(c, url, args.repeat, search))
        for name, c, url, search in pages(coordinators[1], director)
    ]
    small_counts = report("small", args.small, small)

    seconds = fill(args.small + 1, args.large, coordinators, facilities, heavy=False)
    print(
        f"filled {args.large:,} cases, {TimelineEntry.objects.count():,} entries in {seconds:.0f} s"
    )
    large = [
        (name, measure(c, url, args.repeat, search))
        for name, c, url, search in pages(coordinators[1], director)
    ]
    large_counts = report("large", args.large, large)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    failed = [
        f"{name}: {small_counts[name]} queries with {args.small:,} cases, "
        f"{large_counts[name]} with {args.large:,}"
        for name in small_counts
        if small_counts[name] != large_counts[name]
    ]
    failed += [
        f"{name}: {median:.2f} ms median is over {BUDGET_MS:.0f} ms"
        for name, (_, median, _, _, _) in large
        if median > BUDGET_MS
    ]
    for line in failed:
        print(f"FAIL {line}")
    if failed:
        sys.exit(1)
    print(
        "ok: every page's queries are the same at both sizes, every median under "
        f"{BUDGET_MS:.0f} ms"
    )


if __name__ == "__main__":
    main()
