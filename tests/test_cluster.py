"""The cluster profile, for real: two Rasa servers, one action server, PostgreSQL, Redis.

``python -m bot.cluster`` starts (privately, in a temp folder) PostgreSQL and
Redis and the three servers. Then: 50 conversations at once, each message sent
to the other server than the one before; faults (the action server killed,
a Rasa server killed, PostgreSQL stopped) with what the buyer gets and how the
conversation goes on; and the launchers refusing an unreachable database.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Iterator, List

import pytest
import requests
from sqlalchemy import create_engine, text

from conftest import MODEL, PROJECT_ROOT, free_port, wait_for_banner

STARTUP_TIMEOUT_S = 420
CHEN = {"buyer_id": "buyer_tm_chen", "shop_id": "demo_tmall", "platform": "tmall"}
DRESS = "3398127465503318820"
NO_REASON = '/inform_order{"reason": "no_reason"}'
TURNS = [f"我想退了，订单{DRESS}", NO_REASON, "好嘞，多谢了", "再见"]


class Cluster:
    """A running ``python -m bot.cluster`` and how to reach its parts."""

    def __init__(self, process, ports, actions_port, pg_port, data_dir: pathlib.Path, token, log):
        self.process = process
        self.urls = [f"http://127.0.0.1:{port}" for port in ports]
        self.actions_port = actions_port
        self.pg_port = pg_port
        self.data_dir = data_dir
        self.token = token
        self.log = log

    def say(self, server: int, sender: str, message: str, timeout: float = 120) -> requests.Response:
        return requests.post(
            f"{self.urls[server]}/webhooks/rest/webhook",
            json={"sender": sender, "message": message, "metadata": CHEN}, timeout=timeout,
        )

    def events(self, sender: str) -> List[tuple]:
        engine = create_engine(f"postgresql://anxin@127.0.0.1:{self.pg_port}/anxin_tracker")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, type_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).all()
        engine.dispose()
        return rows

    def handoff_reasons(self, sender: str) -> List[str]:
        engine = create_engine(f"postgresql://anxin@127.0.0.1:{self.pg_port}/anxin")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT reason FROM handoffs WHERE conversation_id = :s ORDER BY id"), {"s": sender}
            ).all()
        engine.dispose()
        return [row[0] for row in rows]

    def pid_of(self, *fragments: str) -> int:
        """The pid of the launcher's server whose command line contains every fragment."""
        for entry in pathlib.Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\x00", b" ").decode()
            except OSError:
                continue
            if all(fragment in command for fragment in fragments) and "pytest" not in command:
                return int(entry.name)
        raise AssertionError(f"no process with {fragments}")

    def wait_up(self, url: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{url} did not come back:\n{self.log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")
    # PostgreSQL runs as its own user: its folder must not be under pytest's private tmp.
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="anxin-cluster-"))
    os.chmod(tmp, 0o755)
    ports = [free_port(), free_port()]
    actions_port, pg_port, redis_port = free_port(), free_port(), free_port()
    token = "cluster-token-" + uuid.uuid4().hex[:8]
    env = {**os.environ, "ANXIN_API_TOKEN": token, "ANXIN_HOST": "127.0.0.1",
           "ANXIN_PANEL_TOKEN": "cluster-panel-token-" + uuid.uuid4().hex[:8]}
    env.pop("ANXIN_IM_SECRET", None)
    log = tmp / "cluster.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cluster", "--model", str(MODEL), "--ports", f"{ports[0]},{ports[1]}",
         "--actions-port", str(actions_port), "--pg-port", str(pg_port), "--redis-port", str(redis_port),
         "--data-dir", str(tmp / "data")],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    wait_for_banner(process, log, "Anxin cluster is up", STARTUP_TIMEOUT_S)
    yield Cluster(process, ports, actions_port, pg_port, tmp / "data", token, log)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
    assert not (tmp / "data" / "postgres" / "postmaster.pid").exists(), "PostgreSQL left running"
    shutil.rmtree(tmp, ignore_errors=True)


def converse(cluster: Cluster, sender: str, first_server: int) -> List[list]:
    """One whole return, each message to the other server than the previous one."""
    answers = []
    for turn, message in enumerate(TURNS):
        response = cluster.say((first_server + turn) % 2, sender, message)
        assert response.status_code == 200, (sender, turn, response.status_code, response.text[:300])
        answers.append(response.json())
    return answers


def test_fifty_conversations_alternating_between_two_servers_lose_nothing(cluster) -> None:
    senders = [f"cluster-{n}-{uuid.uuid4().hex[:6]}" for n in range(50)]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda pair: converse(cluster, *pair), [(s, n % 2) for n, s in enumerate(senders)]))
    elapsed = time.monotonic() - started
    print(f"\n50 conversations × {len(TURNS)} messages over 2 servers in {elapsed:.1f}s")

    for sender, answers in zip(senders, results):
        assert all(answers), (sender, answers)  # every message answered
        assert "请问是什么原因" in answers[0][0]["text"]
        assert any("同意退货" in message.get("text", "") for message in answers[1]), answers[1]
        events = cluster.events(sender)
        users = [row for row in events if row.type_name == "user"]
        bots = [row for row in events if row.type_name == "bot"]
        assert [json.loads(row.data)["text"] for row in users] == TURNS  # none lost, none doubled, in order
        assert len(bots) == sum(len(answer) for answer in answers)  # each reply stored once
        stamps = [row.timestamp for row in events]
        assert stamps == sorted(stamps)
        # Each message's replies come after it and before the next message.
        positions = [events.index(row) for row in users]
        for start, end in zip(positions, positions[1:] + [len(events)]):
            assert any(row.type_name == "bot" for row in events[start:end])


def test_the_action_server_killed_mid_conversation(cluster) -> None:
    sender = f"outage-{uuid.uuid4().hex[:8]}"
    first = cluster.say(0, sender, TURNS[0]).json()
    assert "请问是什么原因" in first[0]["text"]
    os.kill(cluster.pid_of("rasa", "run actions", str(cluster.actions_port)), signal.SIGKILL)
    down = cluster.say(1, sender, NO_REASON)
    assert down.status_code == 200
    texts = [message.get("text", "") for message in down.json()]
    assert len(texts) == 1 and "稍后" in texts[0], texts  # one polite apology, not one per action
    assert "service_unavailable" in cluster.handoff_reasons(sender)

    cluster.wait_up(f"http://127.0.0.1:{cluster.actions_port}/health")  # the launcher restarts it
    again = cluster.say(0, sender, NO_REASON).json()
    assert any("同意退货" in message.get("text", "") for message in again), again  # the form went on
    assert "restarting" in cluster.log.read_text()


def test_a_rasa_server_killed_and_restarted_keeps_the_conversation(cluster) -> None:
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    first = cluster.say(0, sender, TURNS[0]).json()
    assert "请问是什么原因" in first[0]["text"]
    port = cluster.urls[0].rsplit(":", 1)[1]
    os.kill(cluster.pid_of("bot.rasa_server", "--port", port), signal.SIGKILL)
    cluster.wait_up(f"{cluster.urls[0]}/status?token={cluster.token}")
    answer = cluster.say(0, sender, NO_REASON).json()
    assert any("同意退货" in message.get("text", "") for message in answer), answer


def _pg_ctl(cluster: Cluster, *args: str) -> None:
    pg_ctl = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
    data = cluster.data_dir / "postgres"
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, str(pg_ctl), "-D", str(data), *args], check=True, capture_output=True, timeout=90)


def test_postgres_down_gives_a_clear_error_and_no_crash_loop(cluster) -> None:
    sender = f"pgdown-{uuid.uuid4().hex[:8]}"
    assert cluster.say(0, sender, "你好").json()
    _pg_ctl(cluster, "stop", "-m", "fast", "-w")
    try:
        for server in (0, 1):
            # Rasa's fail-safe tracker store answers from memory; the actions cannot reach
            # the database: the buyer gets the one apology asking to send again.
            answer = cluster.say(server, sender, "我想退货", timeout=60)
            assert answer.status_code == 200, answer.text[:300]
            texts = [message.get("text", "") for message in answer.json()]
            assert len(texts) == 1 and "稍后" in texts[0], texts
        time.sleep(3)
        assert cluster.process.poll() is None  # the launcher is still supervising
        for url in cluster.urls:
            assert requests.get(f"{url}/", timeout=10).status_code == 200  # the servers did not die
    finally:
        options = (f"-p {cluster.pg_port} -k {cluster.data_dir / 'postgres'} "
                   "-c listen_addresses=127.0.0.1 -c max_connections=200")
        _pg_ctl(cluster, "-o", options, "-l", str(cluster.data_dir / "postgres" / "server.log"), "-w", "start")
    deadline = time.monotonic() + 60
    while True:
        answer = cluster.say(1, sender, "我想退货")
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert answer.status_code == 200 and answer.json(), answer.text[:300]


def test_an_unreachable_database_stops_the_launcher_with_a_clear_message(tmp_path) -> None:
    env = {**os.environ, "DATABASE_URL": f"postgresql://anxin:secret@127.0.0.1:{free_port()}/anxin",
           "ANXIN_HOST": "127.0.0.1"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bot.serve", "--port", str(free_port()), "--actions-port", str(free_port()),
         "--tracker-db", str(tmp_path / "t.db")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "cannot use the database at postgresql://anxin:***@127.0.0.1" in result.stderr
    assert "secret" not in result.stderr + result.stdout
    assert "Anxin is up" not in result.stdout and time.monotonic() - started < 60
