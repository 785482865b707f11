"""``python -m bot.cluster``: two Rasa servers, one action server, PostgreSQL and Redis.

The profile a growing shop runs (``make run-cluster``): the rule base, decision
log and conversations in PostgreSQL, Rasa's lock store in Redis (one message of
a conversation at a time, whichever server gets it), and two Rasa servers a load
balancer can alternate between. PostgreSQL and Redis are used when they answer
on their ports, else started privately under ``var/cluster/`` (``cluster_services``).

The launcher also supervises: a server that dies is restarted after a short
backoff (the conversations are in PostgreSQL, so nothing is lost), but one that
dies five times within two minutes is not restarted again: the launcher stops
everything and says which server kept failing, instead of a crash loop.

Usage: ``python -m bot.cluster [--ports 5005,5006] [--actions-port 5055]
[--pg-port 55432] [--redis-port 56379] [--data-dir var/cluster]``
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import yaml

from bot.cluster_services import Postgres, Redis, ServiceError, ensure_postgres, ensure_redis
from bot.serve import (
    PROJECT_ROOT,
    RUN_DIR,
    busy_port,
    database_problem,
    rasa_command,
    rasa_server_command,
    stop_process,
    wait_until_up,
)
from bot.settings import Settings, child_environment, load_settings

MAX_RESTARTS = 5
RESTART_WINDOW_S = 120.0
FIRST_BACKOFF_S = 1.0


def render_cluster_endpoints(
    source: pathlib.Path, target: pathlib.Path, actions_url: str, pg_port: int, redis_port: int
) -> pathlib.Path:
    """Write the cluster endpoints with this run's action server, PostgreSQL and Redis ports."""
    endpoints = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    endpoints.setdefault("action_endpoint", {})["url"] = actions_url
    endpoints.setdefault("tracker_store", {})["port"] = pg_port
    endpoints.setdefault("lock_store", {})["port"] = redis_port
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(endpoints, allow_unicode=True), encoding="utf-8")
    return target


@dataclasses.dataclass
class Supervised:
    """One server process, how to start it again, and its recent restarts."""

    name: str
    command: List[str]
    health_url: str
    env: Dict[str, str]
    log: Optional[pathlib.Path] = None
    process: Optional[subprocess.Popen] = None
    restarts: List[float] = dataclasses.field(default_factory=list)

    def start(self) -> None:
        """Start the process (its output appended to ``log`` when given)."""
        output = self.log.open("ab") if self.log else None
        self.process = subprocess.Popen(
            self.command, cwd=PROJECT_ROOT, env=self.env, start_new_session=True,
            stdout=output, stderr=subprocess.STDOUT if output else None,
        )

    def wait_until_up(self) -> None:
        """Block until its health URL answers 200 (or raise)."""
        assert self.process is not None
        wait_until_up(self.health_url, self.process, self.name)

    def died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def may_restart(self, now: float) -> bool:
        """False once it died ``MAX_RESTARTS`` times within ``RESTART_WINDOW_S``."""
        self.restarts = [moment for moment in self.restarts if now - moment < RESTART_WINDOW_S]
        return len(self.restarts) < MAX_RESTARTS

    def backoff_s(self) -> float:
        return FIRST_BACKOFF_S * 2 ** len(self.restarts)


def _servers(args: argparse.Namespace, settings: Settings, endpoints: pathlib.Path, env: Dict[str, str]) -> List[Supervised]:
    host = settings.host
    log_dir = pathlib.Path(args.data_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    servers = [
        Supervised(
            "action server",
            rasa_command("run", "actions", "--actions", "actions", "--port", str(args.actions_port)),
            f"http://{host}:{args.actions_port}/health", env, log_dir / "actions.log",
        )
    ]
    for port in args.ports:
        servers.append(
            Supervised(
                f"Rasa server :{port}",
                rasa_server_command(
                    "run", "--model", args.model, "--endpoints", str(endpoints),
                    "--credentials", args.credentials, "--interface", host, "--port", str(port),
                    "--enable-api", "--auth-token", settings.api_token, "--cors", "*",
                ),
                f"http://{host}:{port}/status?token={settings.api_token}", env, log_dir / f"rasa-{port}.log",
            )
        )
    return servers


def _load_rule_base(env: Dict[str, str]) -> None:
    loaded = subprocess.run(
        [sys.executable, "-m", "bot.rules", "load"], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"could not load the rule base into PostgreSQL:\n{loaded.stderr[-2000:]}")


def _supervise(servers: Sequence[Supervised]) -> int:
    """Restart dead servers with backoff until interrupted; 1 when one keeps dying."""
    while True:
        time.sleep(0.5)
        for server in servers:
            if not server.died():
                continue
            now = time.monotonic()
            code = server.process.returncode if server.process else None
            if not server.may_restart(now):
                print(
                    f"{server.name} exited {MAX_RESTARTS} times within {RESTART_WINDOW_S:.0f}s "
                    f"(last exit code {code}); not restarting it. See {server.log}.",
                    file=sys.stderr, flush=True,
                )
                return 1
            delay = server.backoff_s()
            print(f"{server.name} exited with code {code}; restarting in {delay:.0f}s", flush=True)
            time.sleep(delay)
            server.restarts.append(now)
            server.start()
            try:
                server.wait_until_up()
                print(f"{server.name} is back", flush=True)
            except RuntimeError as error:
                print(f"{server.name} did not come back: {error}", flush=True)


def run_cluster(args: argparse.Namespace, settings: Settings) -> int:
    """Start services and servers, print the URLs, supervise; returns the exit code."""
    data_dir = pathlib.Path(args.data_dir)
    taken = busy_port(settings.host, (*args.ports, args.actions_port))
    if taken is not None:
        print(f"Could not start the cluster: port {taken} is already in use.", file=sys.stderr, flush=True)
        return 1
    postgres: Optional[Postgres] = None
    redis: Optional[Redis] = None
    servers: List[Supervised] = []
    try:
        postgres = ensure_postgres(args.pg_port, data_dir / "postgres")
        redis = ensure_redis(args.redis_port, data_dir / "redis")
        env = child_environment(settings)
        env["DATABASE_URL"] = postgres.rules_url
        problem = database_problem(postgres.rules_url)
        if problem:
            raise RuntimeError(problem)
        _load_rule_base(env)
        endpoints = render_cluster_endpoints(
            PROJECT_ROOT / "endpoints.cluster.yml", RUN_DIR / f"endpoints-cluster-{args.ports[0]}.yml",
            f"http://{settings.host}:{args.actions_port}/webhook", args.pg_port, args.redis_port,
        )
        servers = _servers(args, settings, endpoints, env)
        servers[0].start()
        servers[0].wait_until_up()
        for server in servers[1:]:
            server.start()
        for server in servers[1:]:
            server.wait_until_up()
        urls = "\n".join(f"  Rasa server:   http://{settings.host}:{port}" for port in args.ports)
        print(
            "\nAnxin cluster is up.\n"
            f"{urls}\n"
            f"  action server: http://{settings.host}:{args.actions_port}/health\n"
            f"  PostgreSQL:    {postgres.rules_url} (conversations in {postgres.rules_url.rsplit('/', 1)[0]}/anxin_tracker)\n"
            f"  Redis locks:   redis://127.0.0.1:{args.redis_port}/1\n"
            f"  logs:          {data_dir / 'logs'}\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        return _supervise(servers)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    except (ServiceError, RuntimeError) as error:
        print(f"Could not start the cluster: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        for server in reversed(servers):
            if server.process is not None:
                stop_process(server.process, server.name)
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the cluster launcher's command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/anxin.tar.gz")
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--ports", default="5005,5006", type=lambda text: [int(p) for p in text.split(",")],
                        help="the Rasa servers' ports, comma-separated (default 5005,5006)")
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    parser.add_argument("--data-dir", default=str(PROJECT_ROOT / "var" / "cluster"))
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: SIGTERM stops the cluster like Ctrl-C."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return run_cluster(parse_args(argv), load_settings())


if __name__ == "__main__":
    sys.exit(main())
