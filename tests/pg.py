"""Run a command against a throwaway PostgreSQL cluster started from the local server binaries.

    python tests/pg.py [--durable] -- pytest ...

If DATABASE_URL is already set the command just runs against it. Otherwise a cluster is created in
a temporary directory, started on a free loopback port, exported as DATABASE_URL, and destroyed when
the command ends. initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path:
    """Return the directory of the newest installed PostgreSQL server binaries."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for found in (
        *reversed(candidates),
        *[str(Path(p).parent) for p in [shutil.which("initdb")] if p],
    ):
        if (Path(found) / "initdb").exists() and (Path(found) / "pg_ctl").exists():
            return Path(found)
    sys.exit("tests/pg.py: no PostgreSQL server binaries found (install postgresql).")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_cluster_owner(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


def main(argv: list[str]) -> int:
    durable = "--durable" in argv
    if "--" not in argv:
        sys.exit("usage: python tests/pg.py [--durable] -- COMMAND ...")
    command = argv[argv.index("--") + 1 :]
    if os.environ.get("DATABASE_URL"):
        return subprocess.call(command)

    bindir = find_bindir()
    workdir = Path(tempfile.mkdtemp(prefix="defense-fund-pg-"))
    datadir = workdir / "data"
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    workdir.chmod(0o700)
    port = free_port()
    log = workdir / "server.log"
    settings = [
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"unix_socket_directories={workdir}",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=256MB",
    ]
    if not durable:
        # A throwaway test cluster: crash safety buys nothing and costs a lot of time.
        settings += [
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]
    try:
        subprocess.run(
            as_cluster_owner(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(datadir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            as_cluster_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(datadir),
                    "-l",
                    str(log),
                    "-w",
                    "-o",
                    " ".join([f"-p {port}", *settings]),
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    except subprocess.CalledProcessError:
        with contextlib.suppress(OSError):
            sys.stderr.write(log.read_text())
        shutil.rmtree(workdir, ignore_errors=True)
        sys.exit("tests/pg.py: could not start a throwaway PostgreSQL cluster.")

    env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/postgres")
    child = subprocess.Popen(command, env=env)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        subprocess.run(
            as_cluster_owner(
                [str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        time.sleep(0.1)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
