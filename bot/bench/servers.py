"""Start and stop the servers the bench measures; time training; read peak memory.

``OurStack`` starts Anxin exactly as the end-to-end tests do (``python -m bot.serve``
on a fresh SQLite rule base and tracker store in a temporary folder); ``PeerBot``
serves Rasa's starter bot (``rasa init``) with ``rasa run``. Both are context
managers: every server started is stopped (SIGINT, then wait) on the way out,
also on Ctrl-C. They run in their own sessions so a Ctrl-C in the terminal
reaches only the bench, which then stops them once, in order.

Peak memory is ``VmHWM`` of ``/proc/<pid>/status`` (the process's high-water
resident set), read just before a server stops; a training run's peak comes from
``os.wait4``'s ``ru_maxrss``.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Dict, List, Mapping, Optional, Sequence

from bot.serve import stop_process
from bot.settings import PROJECT_ROOT, child_environment, load_settings

MODEL = PROJECT_ROOT / "models" / "anxin.tar.gz"
STARTUP_TIMEOUT_S = 300.0
OUR_BANNER = "Anxin is up"
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
    "RASA_TELEMETRY_ENABLED": "false",
}


class BenchSetupError(RuntimeError):
    """A server or a training run could not be started; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class ProcessMemory:
    """Peak resident memory of one process."""

    name: str
    pid: int
    peak_rss_bytes: Optional[int]

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TimedRun:
    """A finished command: how long it took, its exit code and its peak memory."""

    seconds: float
    returncode: int
    peak_rss_bytes: Optional[int]


def _default_sigint() -> None:
    """In the child, before exec: take SIGINT as Ctrl-C again.

    A bench started in the background (``make bench &``) inherits an ignored
    SIGINT, and the servers would then ignore the SIGINT that stops them.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def free_port() -> int:
    """Ask the OS for a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_environment(**overrides: str) -> Dict[str, str]:
    """The environment for child processes: ours, library noise off, plus ``overrides``."""
    env = child_environment(load_settings())
    for key, value in QUIET_ENV.items():
        env.setdefault(key, value)
    env.update(overrides)
    return env


def peak_rss_bytes(pid: int) -> Optional[int]:
    """``VmHWM`` of a running process in bytes; None when it is gone or unreadable."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def child_pids(pid: int) -> List[int]:
    """Direct children of ``pid`` (from ``/proc/<pid>/task/*/children``)."""
    children: List[int] = []
    for task in pathlib.Path(f"/proc/{pid}/task").glob("*"):
        try:
            children.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return sorted(set(children))


def process_tree(pid: int) -> List[int]:
    """``pid`` and all its descendants, parents first."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        tree.append(current)
        queue.extend(child_pids(current))
    return tree


def command_line(pid: int) -> str:
    """The command line of ``pid`` ('' when gone)."""
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def process_name(cmdline: str) -> str:
    """A readable name for one of the bench's processes, from its command line."""
    if "bot.serve" in cmdline:
        return "launcher (bot.serve)"
    if "run actions" in cmdline:
        return "action server (rasa run actions)"
    if "bot.rasa_server" in cmdline or " rasa run" in f" {cmdline}" or "-m rasa run" in cmdline:
        return "Rasa server (rasa run)"
    return cmdline[:60] or "?"


def tree_memory(pid: int) -> List[ProcessMemory]:
    """Peak memory of ``pid`` and every descendant, named by what they are."""
    return [
        ProcessMemory(process_name(command_line(each)), each, peak_rss_bytes(each))
        for each in process_tree(pid)
    ]


def stop(process: subprocess.Popen) -> None:
    """SIGINT ``process`` and wait (``bot.serve.stop_process``: killed when it does not stop)."""
    stop_process(process, f"process {process.pid}")


def stop_and_measure(process: Optional[subprocess.Popen]) -> List[ProcessMemory]:
    """The peak memory of ``process`` and its children, read just before stopping them."""
    if process is None:
        return []
    memory = tree_memory(process.pid) if process.poll() is None else []
    stop(process)
    return memory


def timed_run(
    command: Sequence[str], *, cwd: pathlib.Path, env: Mapping[str, str], log: pathlib.Path
) -> TimedRun:
    """Run ``command`` to the end; its wall time, exit code and peak RSS (``ru_maxrss``)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_sigint,
        )
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            stop(process)
            raise
    process.returncode = os.waitstatus_to_exitcode(status)
    return TimedRun(time.monotonic() - started, process.returncode, usage.ru_maxrss * 1024)


def wait_for(
    ready, process: subprocess.Popen, log: pathlib.Path, what: str, timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    """Poll ``ready()`` until True; raise with the log's tail when ``process`` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            state = (
                f"exited with code {process.returncode}" if process.poll() is not None else "timed out"
            )
            raise BenchSetupError(f"{what} {state} before it was up; its log ({log}) ends:\n{tail}")
        time.sleep(0.5)


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


class OurStack:
    """Anxin's real stack (``python -m bot.serve``) on a fresh database in ``workdir``."""

    def __init__(self, workdir: pathlib.Path, model: pathlib.Path = MODEL):
        self.workdir = workdir
        self.model = model
        self.port, self.actions_port = free_port(), free_port()
        self.token = "bench-" + secrets.token_hex(8)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "serve.log"
        self.env = base_environment(
            ANXIN_API_TOKEN=self.token,
            ANXIN_HOST="127.0.0.1",
            ANXIN_PANEL_TOKEN="bench-panel-" + secrets.token_hex(8),
            ANXIN_RASA_URL=self.base_url,
            DATABASE_URL=f"sqlite:///{workdir / 'anxin.db'}",
        )
        self.process: Optional[subprocess.Popen] = None
        self.memory: List[ProcessMemory] = []

    def __enter__(self) -> "OurStack":
        if not self.model.exists():
            raise BenchSetupError(f"no trained model at {self.model}: run `make train` first")
        loaded = subprocess.run(
            [sys.executable, "-m", "bot.rules", "load"], cwd=PROJECT_ROOT, env=self.env,
            capture_output=True, text=True, timeout=300,
        )
        if loaded.returncode != 0:
            raise BenchSetupError(
                f"could not load the rule base (python -m bot.rules load):\n{loaded.stderr[-3000:]}"
            )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.serve", "--model", str(self.model), "--port", str(self.port),
             "--actions-port", str(self.actions_port), "--tracker-db", str(self.workdir / "tracker.db")],
            cwd=PROJECT_ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_sigint,
        )
        try:
            wait_for(
                lambda: OUR_BANNER in self.log.read_text(errors="replace"),
                self.process, self.log, "Anxin",
            )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is None:
            return
        self.memory = stop_and_measure(self.process) or self.memory
        # bot.serve renders one endpoints file per port; this run's is of no further use.
        (PROJECT_ROOT / "var" / "run" / f"endpoints-{self.port}.yml").unlink(missing_ok=True)


class PeerBot:
    """Rasa's starter bot, created and trained by ``rasa init`` in ``workdir``, then served."""

    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.project = workdir / "peer"
        self.port = free_port()
        self.token = "bench-peer-" + secrets.token_hex(8)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "peer-serve.log"
        self.env = base_environment(RASA_CACHE_DIRECTORY=str(workdir / "peer-cache"))
        self.training: Optional[TimedRun] = None
        self.process: Optional[subprocess.Popen] = None
        self.memory: List[ProcessMemory] = []

    def init(self) -> TimedRun:
        """``rasa init --no-prompt`` (creates and trains the moodbot), timed."""
        self.project.mkdir(parents=True, exist_ok=True)
        self.training = timed_run(
            [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(self.project)],
            cwd=self.project, env=self.env, log=self.workdir / "peer-init.log",
        )
        if self.training.returncode != 0 or not self.model_path():
            tail = (self.workdir / "peer-init.log").read_text(errors="replace")[-3000:]
            raise BenchSetupError(
                f"`rasa init` of the starter bot failed (code {self.training.returncode}):\n{tail}"
            )
        return self.training

    def model_path(self) -> Optional[pathlib.Path]:
        """The starter bot's trained model, if any."""
        models = sorted((self.project / "models").glob("*.tar.gz"))
        return models[-1] if models else None

    def __enter__(self) -> "PeerBot":
        if self.training is None:
            self.init()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--enable-api", "--interface", "127.0.0.1",
             "--port", str(self.port), "--auth-token", self.token, "--model", str(self.model_path())],
            cwd=self.project, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_sigint,
        )
        try:
            wait_for(
                lambda: answers(f"{self.base_url}/status?token={self.token}"),
                self.process, self.log, "the starter bot",
            )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.memory = stop_and_measure(self.process) or self.memory


def train_ours(workdir: pathlib.Path) -> TimedRun:
    """Train Anxin from scratch into ``workdir`` (empty cache, so nothing is reused), timed."""
    env = base_environment(RASA_CACHE_DIRECTORY=str(workdir / "train-cache"))
    return timed_run(
        [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "bench",
         "--out", str(workdir / "models")],
        cwd=PROJECT_ROOT, env=env, log=workdir / "train.log",
    )
