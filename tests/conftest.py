"""Shared fixtures: project paths and a real running bot (Rasa + action server)."""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from typing import Iterator

import pytest
import requests
import yaml

from utils.fake_im import FakeIMPlatform

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "anxin.tar.gz"
STARTUP_TIMEOUT_S = 240
IM_SECRET = "test-im-secret-" + os.urandom(8).hex()
PANEL_TOKEN = "test-panel-token-" + os.urandom(8).hex()


def free_port() -> int:
    """Ask the OS for a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def domain() -> dict:
    """The parsed domain.yml."""
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def wait_for_banner(process: subprocess.Popen, log: pathlib.Path, banner: str, timeout_s: float) -> None:
    """Wait until a launcher printed ``banner``; fail with its log when it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while banner not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{banner!r} never came:\n{log.read_text()[-4000:]}")
        time.sleep(1)


class RunningBot:
    """A `python -m bot.serve` process and how to talk to it."""

    def __init__(
        self, process: subprocess.Popen, ports: tuple, token: str, log: pathlib.Path, env: dict
    ):
        self.process = process
        self.ports = ports
        self.base_url = f"http://127.0.0.1:{ports[0]}"
        self.token = token
        self.panel_token = PANEL_TOKEN
        self.tracker_db = log.parent / "tracker.db"
        self.log = log
        self.env = env

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Run ``python -m <args>`` against this bot's database and HTTP API."""
        return subprocess.run(
            [sys.executable, "-m", *args], cwd=PROJECT_ROOT, env=self.env,
            capture_output=True, text=True, timeout=120,
        )

    def say(self, sender: str, text: str, **extra) -> requests.Response:
        """POST one message to the REST channel (``extra``: e.g. ``metadata``)."""
        return requests.post(
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, **extra},
            timeout=60,
        )


@pytest.fixture(scope="session")
def fake_im_platform() -> Iterator[FakeIMPlatform]:
    """The IM platform's send API (loopback), up before the bot so its URL is in the bot's env."""
    platform = FakeIMPlatform(IM_SECRET).start()
    yield platform
    platform.stop()


def launch_bot(tmp: pathlib.Path, im_send_url: str) -> RunningBot:
    """Start the real servers through the launcher `make run` uses, on a fresh database."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does)")
    port, actions_port = free_port(), free_port()
    token = "test-token-" + os.urandom(4).hex()
    log = tmp / "serve.log"
    env = {
        **os.environ,
        "ANXIN_API_TOKEN": token,
        "ANXIN_HOST": "127.0.0.1",
        "ANXIN_RASA_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{tmp / 'anxin.db'}",
        "ANXIN_IM_SECRET": IM_SECRET,
        "ANXIN_IM_SEND_URL": im_send_url,
        "ANXIN_IM_RETRY_BASE_S": "0.2",
        "ANXIN_PANEL_TOKEN": PANEL_TOKEN,
    }
    loaded = subprocess.run(
        [sys.executable, "-m", "bot.rules", "load"], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )
    if loaded.returncode != 0:
        pytest.fail(f"could not load the rule base:\n{loaded.stderr}")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.serve", "--model", str(MODEL), "--port", str(port),
         "--actions-port", str(actions_port), "--tracker-db", str(tmp / "tracker.db")],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    wait_for_banner(process, log, "Anxin is up", STARTUP_TIMEOUT_S)
    return RunningBot(process, (port, actions_port), token, log, env)


def stop_bot(bot: RunningBot) -> None:
    """Ctrl-C the launcher (it stops both servers); kill it if it hangs."""
    if bot.process.poll() is None:
        bot.process.send_signal(signal.SIGINT)
        try:
            bot.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            bot.process.kill()


@pytest.fixture(scope="session")
def running_bot(tmp_path_factory, fake_im_platform) -> Iterator[RunningBot]:
    """The real servers, shared by the end-to-end tests; stopped after them."""
    bot = launch_bot(tmp_path_factory.mktemp("bot"), fake_im_platform.url)
    yield bot
    stop_bot(bot)
