"""PostgreSQL and Redis for the cluster profile: use running ones, else start private ones.

The cluster profile (``python -m bot.cluster``, ``make run-cluster``) keeps the
rule base, decision log and conversations in PostgreSQL and Rasa's locks in
Redis. On a developer machine or in CI neither may be running, so each is
started here from Debian's packages (``postgresql``, ``redis-server``) with
its data under the given folder, bound to 127.0.0.1, and stopped again by the
launcher that started it. A server already answering on the port is used as
it is and never stopped.

PostgreSQL refuses to run as root; as root its commands run as the
``postgres`` system user (which the Debian package creates). The private
cluster trusts local connections (it listens on 127.0.0.1 only), so no
password has to be invented or committed; a real deployment sets
``DATABASE_URL`` with its own credentials instead.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import pathlib
import shutil
import socket
import subprocess
import time
from typing import List, Optional

PG_USER = "anxin"
RULES_DB = "anxin"
TRACKER_DB = "anxin_tracker"
START_TIMEOUT_S = 60


class ServiceError(RuntimeError):
    """A service could not be found or started; the message says what to install or check."""


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise ServiceError(
        f"PostgreSQL's {name} was not found: install Debian's postgresql package "
        "(make run-cluster and make test do, with apt-get)"
    )


def _as_postgres(command: List[str]) -> List[str]:
    """Run as the ``postgres`` user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclasses.dataclass
class Postgres:
    """A PostgreSQL server on ``port``; ``started`` when this process started it."""

    port: int
    data_dir: pathlib.Path
    started: bool = False

    @property
    def rules_url(self) -> str:
        """``DATABASE_URL`` of the rule base, orders, decision and handoff logs."""
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{RULES_DB}"

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if self.started:
            subprocess.run(
                _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "stop", "-m", "fast", "-w"]),
                capture_output=True, timeout=START_TIMEOUT_S,
            )
            self.started = False

    def start_again(self) -> None:
        """Start the private server after a ``stop`` (tests of a database outage)."""
        self._pg_ctl_start()
        self.started = True

    def _pg_ctl_start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        result = subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-o", options,
                          "-l", str(self.data_dir / "server.log"), "-w", "-t", str(START_TIMEOUT_S), "start"]),
            capture_output=True, text=True, timeout=START_TIMEOUT_S + 10,
        )
        if result.returncode != 0:
            log = (self.data_dir / "server.log")
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise ServiceError(f"PostgreSQL did not start on port {self.port}: {result.stderr}{tail}")


def ensure_postgres(port: int, data_dir: pathlib.Path) -> Postgres:
    """The PostgreSQL on ``port``, started from ``data_dir`` (created once) when none answers.

    Both databases (rule base and tracker store) exist afterwards.
    """
    server = Postgres(port, data_dir)
    if not port_open(port):
        fresh = not (data_dir / "PG_VERSION").exists()
        data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data_dir, "postgres", "postgres")
        data_dir.chmod(0o700)
        reachable = subprocess.run(_as_postgres(["test", "-w", str(data_dir)]), capture_output=True)
        if reachable.returncode != 0:
            raise ServiceError(
                f"the postgres user cannot reach {data_dir}: pick a data folder whose parent "
                "folders it may enter (e.g. under the project, not a private /tmp folder)"
            )
        if fresh:
            result = subprocess.run(
                _as_postgres([_pg_bin("initdb"), "-D", str(data_dir), "-U", PG_USER,
                              "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                capture_output=True, text=True, timeout=120,
            )
            if result.returncode != 0:
                raise ServiceError(f"initdb failed in {data_dir}: {result.stderr[-1500:]}")
        server._pg_ctl_start()
        server.started = True
    for database in (RULES_DB, TRACKER_DB):
        _create_database(port, database)
    return server


def _create_database(port: int, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        result = subprocess.run(
            [_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, "-d", "postgres",
             "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            capture_output=True, text=True, timeout=30,
        )
        if result.returncode == 0:
            break
        if time.monotonic() > deadline:
            raise ServiceError(f"cannot connect to PostgreSQL on port {port} as {PG_USER}: {result.stderr}")
        time.sleep(0.5)
    if result.stdout.strip() != "1":
        created = subprocess.run(
            [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, name],
            capture_output=True, text=True, timeout=30,
        )
        if created.returncode != 0:
            raise ServiceError(f"could not create database {name}: {created.stderr}")


@dataclasses.dataclass
class Redis:
    """A Redis server on ``port``; ``process`` when this process started it."""

    port: int
    process: Optional[subprocess.Popen] = None

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def ensure_redis(port: int, data_dir: pathlib.Path) -> Redis:
    """The Redis on ``port``, started in the foreground as our child when none answers."""
    if port_open(port):
        return Redis(port)
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError(
            "redis-server was not found: install Debian's redis-server package "
            "(make run-cluster and make test do, with apt-get)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(data_dir), "--logfile", str(data_dir / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise ServiceError(f"redis-server did not start on port {port}; see {data_dir / 'redis.log'}")
        time.sleep(0.2)
    return Redis(port, process)
