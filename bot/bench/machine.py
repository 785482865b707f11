"""What the bench ran on: a latency figure means little without the machine behind it."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import pathlib
import platform
from typing import Dict, Optional


def cpu_model() -> Optional[str]:
    """The CPU's model name from ``/proc/cpuinfo`` (None when unreadable)."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def load_average() -> Optional[float]:
    """The 1-minute load average when the run started (other jobs skew the figures)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_info() -> Dict[str, object]:
    """Cores, CPU, Python, Rasa, date and load of this run."""
    try:
        rasa_version: Optional[str] = importlib.metadata.version("rasa")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - the venv has Rasa
        rasa_version = None
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "rasa": rasa_version,
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average_1m_at_start": load_average(),
    }
