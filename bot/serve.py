"""Start the action server and the Rasa server together; stop both on Ctrl-C.

``make run`` calls this so a newcomer gets a working bot with one command. The
two servers run as child processes in their own sessions: Ctrl-C reaches only
this launcher, which then stops the Rasa server first (so no message is sent to a
dead action server) and the action server second, waiting for each to exit.

Usage: ``python -m bot.serve [--model models/anxin.tar.gz] [--port 5005]
[--actions-port 5055] [--tracker-db var/tracker.db]``
"""

from __future__ import annotations

import argparse
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import List, Optional, Sequence

import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.rules import db
from bot.settings import Settings, child_environment, load_settings

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
RUN_DIR = PROJECT_ROOT / "var" / "run"
STARTUP_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0


def render_endpoints(
    source: pathlib.Path, target: pathlib.Path, actions_url: str, tracker_db: str
) -> pathlib.Path:
    """Write an endpoints file pointing at this run's action server and tracker DB."""
    endpoints = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    endpoints.setdefault("action_endpoint", {})["url"] = actions_url
    tracker = endpoints.get("tracker_store") or {}
    if tracker.get("dialect") == "sqlite":
        tracker["db"] = tracker_db
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(endpoints, allow_unicode=True), encoding="utf-8")
    return target


def wait_until_up(url: str, process: subprocess.Popen, what: str) -> None:
    """Poll ``url`` until it answers 200; raise when ``process`` exits or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer at {url} within {STARTUP_TIMEOUT_S}s")


def stop_process(process: subprocess.Popen, what: str) -> None:
    """Ctrl-C ``process`` and wait for it; kill it when it does not stop in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"{what} did not stop in {STOP_TIMEOUT_S}s; killing it", flush=True)
        process.kill()
        process.wait()


def busy_port(host: str, ports: Sequence[int]) -> Optional[int]:
    """The first of ``ports`` something already listens on (another bot still running?).

    Checked before starting: otherwise the old server would answer the health
    check and this launcher would announce a bot that is not its own.
    """
    for port in ports:
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex((host, port)) == 0:
                return port
    return None


def database_problem(url: str) -> Optional[str]:
    """Why the database cannot be used (unreachable, refused), or None once it is migrated.

    Checked before any server starts: without it the servers would start, fail
    on the first message, and a supervisor would restart them in a loop.
    """
    try:
        db.migrate(url)
    except SQLAlchemyError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return f"cannot use the database at {shown} (DATABASE_URL): {reason}"
    return None


def rasa_command(*args: str) -> List[str]:
    """Rasa's command line (the action server)."""
    return [sys.executable, "-m", "rasa", *args]


def rasa_server_command(*args: str) -> List[str]:
    """Rasa's command line with the outage reply installed (``bot.rasa_server``)."""
    return [sys.executable, "-m", "bot.rasa_server", *args]


def serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run both servers until interrupted; returns the exit code."""
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    host = settings.host
    taken = busy_port(host, (args.port, args.actions_port))
    if taken is not None:
        print(
            f"Could not start Anxin: port {taken} on {host} is already in use "
            "(is another `make run` still running?). Stop it, or pass --port / --actions-port.",
            file=sys.stderr,
            flush=True,
        )
        return 1
    problem = database_problem(settings.database_url)
    if problem:
        print(f"Could not start Anxin: {problem}", file=sys.stderr, flush=True)
        return 1
    endpoints = render_endpoints(
        PROJECT_ROOT / "endpoints.yml",
        RUN_DIR / f"endpoints-{args.port}.yml",
        f"http://{host}:{args.actions_port}/webhook",
        args.tracker_db,
    )
    children = []
    actions = subprocess.Popen(
        rasa_command("run", "actions", "--actions", "actions", "--port", str(args.actions_port)),
        cwd=PROJECT_ROOT,
        start_new_session=True,
    )
    children.append((actions, "action server"))
    try:
        wait_until_up(f"http://{host}:{args.actions_port}/health", actions, "action server")
        rasa = subprocess.Popen(
            rasa_server_command(
                "run",
                "--model", args.model,
                "--endpoints", str(endpoints),
                "--credentials", args.credentials,
                "--interface", host,
                "--port", str(args.port),
                "--enable-api",
                "--auth-token", settings.api_token,
                "--cors", "*",
            ),
            cwd=PROJECT_ROOT,
            env=child_environment(settings),
            start_new_session=True,
        )
        children.insert(0, (rasa, "Rasa server"))
        wait_until_up(
            f"http://{host}:{args.port}/status?token={settings.api_token}", rasa, "Rasa server"
        )
        base = f"http://{host}:{args.port}"
        token_note = (
            " (generated for this run; set ANXIN_API_TOKEN to fix it)"
            if settings.api_token_generated
            else " (from ANXIN_API_TOKEN)"
        )
        panel_note = (
            f"log in with the token {settings.panel_token}, generated for this run; "
            "set ANXIN_PANEL_TOKEN to fix it"
            if settings.panel_token_generated
            else "log in with ANXIN_PANEL_TOKEN"
        )
        print(
            "\nAnxin is up.\n"
            f"  REST (local):  POST {base}/webhooks/rest/webhook\n"
            f"  socket.io:     {base}/socket.io\n"
            f"  chat widget:   {base}/webhooks/widget/ (demo page; embed {base}/webhooks/widget/anxin-widget.js)\n"
            f"  agent panel:   {base}/webhooks/assist/ ({panel_note})\n"
            f"  HTTP API:      {base}/status?token=…{token_note}\n"
            f"  action server: http://{host}:{args.actions_port}/health\n"
            "Press Ctrl-C to stop both servers.\n",
            flush=True,
        )
        while all(process.poll() is None for process, _ in children):
            time.sleep(0.5)
        for process, what in children:
            if process.poll() is not None:
                print(f"{what} exited with code {process.returncode}", flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    except RuntimeError as error:
        print(f"Could not start Anxin: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        for process, what in children:
            stop_process(process, what)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the launcher's command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/anxin.tar.gz")
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--tracker-db", default="var/tracker.db")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: turn SIGTERM into a clean stop as well."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return serve(parse_args(argv), load_settings())


if __name__ == "__main__":
    sys.exit(main())
