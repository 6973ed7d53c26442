"""Stripe webhooks through the real HTTP stack: events per second, latency, each booked once.

    .venv/bin/python tests/pg.py --durable -- .venv/bin/python bench/webhooks.py [--runs 3]

Starts gunicorn (fund.wsgi, production settings with DEBUG off; 2 workers x 4 threads unless
--workers/--threads say otherwise) on a free loopback port against the benchmark's PostgreSQL.
Each run opens a fresh fund, builds 10,000 distinct `checkout.session.completed` events for it,
shuffles in 1,000 repeats of random ones (Stripe retries, and sometimes delivers twice at once)
and has 20 sender threads POST them to /stripe/webhook/ over keep-alive connections, each signed
as it is sent; every answer must be a 200. It prints deliveries per second (repeats included:
each is a request served), p50 and p99 latency, and the CPU the server's processes spent per
delivery. Then it checks that every event was booked exactly once: one stored StripeEvent each,
every gift paid, one GIFT_ONLINE transaction per gift, two tasks queued per gift, the fund's
contributions equal to the sum of the distinct events, and verify_fund() clean. Exits non-zero
if any answer or check is wrong.

The events are gifts not started on the donation page (only metadata.fund, a new donor each), so
each request also creates its donor and gift. No task worker runs: the fee fetch and the receipt
each gift queues on commit stay rows in the task table, and nothing calls Stripe.
"""

import argparse
import http.client
import json
import os
import queue
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from common import ROOT, machine, setup

SECRET = "whsec_benchmark_only_secret"  # noqa: S105
PATH = "/stripe/webhook/"
TARGET_RATE = 300  # events/s
TARGET_P99 = 100  # ms


@dataclass
class Batch:
    """One run's event bodies, in the order they are sent."""

    fund_slug: str
    event_prefix: str
    events: int
    total_cents: int
    deliveries: list[bytes]


@dataclass
class Outcome:
    """What the senders saw: one latency per answer, and every answer that was not a 200."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start gunicorn on the port and return it once it answers."""
    env = dict(os.environ, STRIPE_WEBHOOK_SECRET=SECRET, CONN_MAX_AGE=str(args.conn_max_age))
    command = [sys.executable, "-m", "gunicorn", "fund.wsgi", f"--bind=127.0.0.1:{port}"]
    command += [f"--workers={args.workers}", "--backlog=2048"]
    if args.threads > 1:
        command += ["--worker-class=gthread", f"--threads={args.threads}"]
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"bench: gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", PATH)  # 405: the view takes POST only, so it is loaded
            connection.getresponse().read()
            connection.close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("bench: gunicorn did not answer within 60 s")


def new_fund(label: str) -> str:
    """Open a fund for one run and return its slug."""
    from fund.ledger.services import create_fund

    slug = f"webhooks-{label}"
    create_fund(
        actor=None, opened_on=date(2020, 1, 1), name=f"Webhooks {label}", slug=slug, goal_cents=0
    )
    return slug


def batch_for(slug: str, events: int, repeats: int, rng: random.Random) -> Batch:
    """Build distinct completed checkouts for the fund, with repeats of random ones shuffled in."""
    from tests.donations import stripe_objects as so

    prefix = f"evt_{slug}_"
    total = 0
    deliveries = []
    for n in range(events):
        amount = rng.randrange(500, 50_001)
        total += amount
        session = so.checkout_session(
            amount=amount,
            metadata={"fund": slug},
            payment_intent=f"pi_{slug}_{n}",
            email=f"donor-{n}@{slug}.example.org",
            name=f"Donor {n}",
            id_=f"cs_{slug}_{n}",
        )
        event = so.event("checkout.session.completed", session, id_=f"{prefix}{n}")
        deliveries.append(json.dumps(event).encode())
    deliveries += rng.choices(deliveries, k=repeats)
    rng.shuffle(deliveries)
    return Batch(slug, prefix, events, total, deliveries)


def sender(
    port: int, work: queue.SimpleQueue[bytes], outcome: Outcome, lock: threading.Lock
) -> None:
    """Sign and POST bodies until the queue is empty, timing each answer."""
    from donations.stripe import signature_header

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    failures: list[str] = []
    while True:
        try:
            body = work.get_nowait()
        except queue.Empty:
            break
        # Signed as it is sent, as Stripe signs each delivery: a signature holds for 300 s only.
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": signature_header(body, SECRET),
        }
        start = time.perf_counter()
        try:
            connection.request("POST", PATH, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            failures.append(type(error).__name__)
            connection.close()  # the next request opens a new connection
            continue
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            failures.append(f"HTTP {response.status}")
    connection.close()
    with lock:
        outcome.latencies += latencies
        for failure in failures:
            outcome.failures[failure] = outcome.failures.get(failure, 0) + 1


def send(port: int, deliveries: list[bytes], senders: int) -> Outcome:
    """Send every delivery from concurrent senders and return what they saw."""
    work: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for delivery in deliveries:
        work.put(delivery)
    outcome, lock = Outcome(), threading.Lock()
    threads = [
        threading.Thread(target=sender, args=(port, work, outcome, lock)) for _ in range(senders)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.seconds = time.perf_counter() - start
    return outcome


def exactly_once_problems(batch: Batch) -> list[str]:
    """Return what is wrong with the books of a batch (nothing if each event counted once)."""
    from donations.models import Gift, StripeEvent
    from fund.ledger.models import Account, Fund, Transaction
    from fund.ledger.queries import account_balance, account_for
    from fund.ledger.verify import verify_fund

    fund = Fund.objects.get(slug=batch.fund_slug)
    found = {
        "stored events": StripeEvent.objects.filter(event_id__startswith=batch.event_prefix),
        "gifts": Gift.objects.filter(fund=fund),
        "gifts paid": Gift.objects.filter(fund=fund, status=Gift.Status.PAID),
        "online-gift transactions": Transaction.objects.filter(
            fund=fund, kind=Transaction.Kind.GIFT_ONLINE
        ),
    }
    counts = {what: rows.count() for what, rows in found.items()}
    problems = [
        f"{what}: {n:,}, expected {batch.events:,}"
        for what, n in counts.items()
        if n != batch.events
    ]
    raised = -account_balance(account_for(fund, Account.Role.CONTRIBUTIONS))
    if raised != batch.total_cents:
        problems.append(f"contributions: {raised:,} cents, expected {batch.total_cents:,}")
    verification = verify_fund(fund)
    if not verification.ok:
        problems.append(f"verify_fund: {verification.problem}")
    return problems


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process and its children, live or ended, have used.

    Read from Linux's /proc; 0 elsewhere.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    ticks = sum(int(n) for n in stat[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(int(child)) for child in children)


def postmaster_pid() -> int:
    """Return the PostgreSQL server's main process (its backends and helpers are its children)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    try:
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def queued_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.count()


def percentile_ms(latencies: list[float], percent: int) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[percent - 1] * 1000


@dataclass
class Run:
    """One run's figures: deliveries per second, latency, and CPU milliseconds per delivery."""

    rate: float
    p50: float
    p99: float
    cpu_ms: dict[str, float]


def measure(
    args: argparse.Namespace, port: int, server: subprocess.Popen[bytes], rng: random.Random
) -> Run | None:
    """Send one fresh fund's batch, print its figures, and check it; None if anything failed."""
    batch = batch_for(new_fund(uuid.uuid4().hex[:8]), args.events, args.repeats, rng)
    tasks_before = queued_tasks()
    processes = {"gunicorn": server.pid, "PostgreSQL": postmaster_pid()}
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    senders_before = time.process_time()
    outcome = send(port, batch.deliveries, args.senders)
    deliveries = len(batch.deliveries)
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()}
    cpu["senders"] = time.process_time() - senders_before
    run = Run(
        rate=deliveries / outcome.seconds,
        p50=percentile_ms(outcome.latencies, 50),
        p99=percentile_ms(outcome.latencies, 99),
        cpu_ms={name: seconds * 1000 / deliveries for name, seconds in cpu.items()},
    )
    problems = [f"{n:,} answers: {what}" for what, n in sorted(outcome.failures.items())]
    problems += exactly_once_problems(batch)
    # Each booked gift queues its fee fetch and its receipt once; a repeat queues nothing.
    tasks = queued_tasks() - tasks_before
    if tasks != 2 * batch.events:
        problems.append(f"tasks queued: {tasks:,}, expected {2 * batch.events:,}")
    print(
        f"  {deliveries:,} deliveries ({batch.events:,} events + {args.repeats:,} repeats) in "
        f"{outcome.seconds:.1f} s: {run.rate:,.0f} events/s, p50 {run.p50:.0f} ms, "
        f"p99 {run.p99:.0f} ms, max {max(outcome.latencies) * 1000:.0f} ms; CPU per event "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in run.cpu_ms.items())
        + f"; exactly once: {'FAILED' if problems else 'ok'}",
        flush=True,
    )
    for problem in problems:
        print(f"    {problem}")
    return None if problems else run


def spread(values: list[float], unit: str) -> str:
    return (
        f"median {statistics.median(values):,.0f} {unit} "
        f"(min {min(values):,.0f}, max {max(values):,.0f})"
    )


def report(runs: list[Run], senders: int) -> None:
    """Print the runs' spread, the ceiling their CPU use implies, and whether the target is met."""
    rates = [run.rate for run in runs]
    p50s = [run.p50 for run in runs]
    p99s = [run.p99 for run in runs]
    print(f"webhooks, {senders} senders, {len(runs)} runs: {spread(rates, 'events/s')}")
    print(f"  latency p50 {spread(p50s, 'ms')}; p99 {spread(p99s, 'ms')}")
    server_ms = statistics.median(run.cpu_ms["gunicorn"] + run.cpu_ms["PostgreSQL"] for run in runs)
    cores = os.cpu_count() or 1
    if server_ms > 0:
        print(
            f"  server CPU per event {server_ms:.1f} ms (gunicorn and PostgreSQL): at that cost "
            f"{cores} cores serve at most {cores * 1000 / server_ms:,.0f} events/s"
        )
    met = statistics.median(rates) >= TARGET_RATE and statistics.median(p99s) <= TARGET_P99
    print(
        f"target (>= {TARGET_RATE} events/s, p99 <= {TARGET_P99} ms): {'met' if met else 'NOT met'}"
    )


def serve_and_measure(args: argparse.Namespace) -> list[Run]:
    """Start gunicorn, warm its workers up, then measure each run; exit if one failed."""
    rng = random.Random(2026)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        log = Path(tmp) / "gunicorn.log"
        server = start_server(args, port, log)
        try:
            warm_up = batch_for(new_fund(f"warm-up-{uuid.uuid4().hex[:6]}"), 200, 0, rng)
            send(port, warm_up.deliveries, args.senders)
            runs = []
            for _ in range(args.runs):
                run = measure(args, port, server, rng)
                if run is None:
                    sys.exit(
                        f"bench: webhooks failed; gunicorn's log ends:\n{log.read_text()[-3000:]}"
                    )
                runs.append(run)
            return runs
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=1_000, help="Duplicate deliveries.")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
    parser.add_argument("--threads", type=int, default=4, help="Threads per worker (gthread).")
    parser.add_argument("--conn-max-age", type=int, default=60, help="As in production.")
    args = parser.parse_args()
    setup()
    print(f"machine: {machine()}")
    kind = f"x {args.threads} threads (gthread)" if args.threads > 1 else "(sync)"
    print(
        f"server: gunicorn, {args.workers} workers {kind}, CONN_MAX_AGE={args.conn_max_age}; "
        f"{args.senders} senders"
    )
    report(serve_and_measure(args), args.senders)


if __name__ == "__main__":
    main()
