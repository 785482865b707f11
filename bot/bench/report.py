"""Ratios, targets, ``results/bench.json`` and the Markdown table printed at the end.

The JSON is built first and the table is rendered from it, so what is printed and
what is saved cannot disagree. The targets come from the issue ("on 2 cores"):
they are reported as met / not met, never asserted.
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence

from bot.bench.servers import ProcessMemory
from bot.bench.stats import LevelResult

TARGET_CONCURRENCY = 8
P95_TARGET_MS = 150.0
THROUGHPUT_TARGET = 30.0
RATIO_TARGET = 1.5
SYSTEM_TITLES = {"ours": "Anxin", "peer": "starter bot (rasa init)"}
KIND_TITLES = {"e2e": "REST, multi-turn", "nlu": "NLU only (/model/parse)"}


@dataclasses.dataclass
class SystemResult:
    """Everything measured for one system (``ours`` or ``peer``)."""

    system: str
    e2e: List[LevelResult] = dataclasses.field(default_factory=list)
    nlu: List[LevelResult] = dataclasses.field(default_factory=list)
    training_s: Optional[float] = None
    training_peak_rss_bytes: Optional[int] = None
    training_note: str = ""
    model_bytes: Optional[int] = None
    memory: List[ProcessMemory] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "e2e": [level.as_dict() for level in self.e2e],
            "nlu": [level.as_dict() for level in self.nlu],
            "training_s": None if self.training_s is None else round(self.training_s, 1),
            "training_peak_rss_bytes": self.training_peak_rss_bytes,
            "training_note": self.training_note,
            "model_bytes": self.model_bytes,
            "processes": [process.as_dict() for process in self.memory],
        }


def _ratio(ours: Optional[float], peer: Optional[float]) -> Optional[float]:
    """ours / peer, None when either is missing or the peer's is zero."""
    if ours is None or not peer:
        return None
    return round(ours / peer, 2)


def ratios(ours: Sequence[dict], peer: Sequence[dict]) -> List[dict]:
    """ours / peer per concurrency level both measured (p50, p95, throughput)."""
    peer_by_level = {level["concurrency"]: level for level in peer}
    return [
        {
            "concurrency": level["concurrency"],
            "p50": _ratio(level["p50_ms"], peer_by_level[level["concurrency"]]["p50_ms"]),
            "p95": _ratio(level["p95_ms"], peer_by_level[level["concurrency"]]["p95_ms"]),
            "throughput": _ratio(level["throughput"], peer_by_level[level["concurrency"]]["throughput"]),
        }
        for level in ours
        if level["concurrency"] in peer_by_level
    ]


def _at(levels: Sequence[dict], concurrency: int) -> Optional[dict]:
    """The level measured at ``concurrency``, if any."""
    return next((level for level in levels if level["concurrency"] == concurrency), None)


def targets(ours_e2e: Sequence[dict], level_ratios: Sequence[dict]) -> List[dict]:
    """The issue's three targets, each with what was measured and whether it is met.

    ``met`` is None when the level needed was not measured.
    """
    at_target = _at(ours_e2e, TARGET_CONCURRENCY)
    p95 = at_target["p95_ms"] if at_target else None
    best = max(ours_e2e, key=lambda level: level["throughput"], default=None)
    ratio = (_at(level_ratios, TARGET_CONCURRENCY) or {}).get("p95")
    return [
        {
            "name": f"p95 latency at concurrency {TARGET_CONCURRENCY}",
            "target": f"≤ {P95_TARGET_MS:.0f} ms",
            "measured": None if p95 is None else f"{p95:.0f} ms",
            "met": None if p95 is None else p95 <= P95_TARGET_MS,
        },
        {
            "name": "sustained throughput (best level)",
            "target": f"≥ {THROUGHPUT_TARGET:.0f} msg/s",
            "measured": None
            if best is None
            else f"{best['throughput']:.1f} msg/s at concurrency {best['concurrency']}",
            "met": None if best is None else best["throughput"] >= THROUGHPUT_TARGET,
        },
        {
            "name": f"ours/peer p95 ratio at concurrency {TARGET_CONCURRENCY}",
            "target": f"≤ {RATIO_TARGET}",
            "measured": None if ratio is None else f"{ratio:.2f}",
            "met": None if ratio is None else ratio <= RATIO_TARGET,
        },
    ]


def build_report(
    *, machine: dict, settings: dict, ours: SystemResult, peer: Optional[SystemResult], notes: List[str]
) -> dict:
    """The whole run as the JSON saved to ``results/bench.json``."""
    systems = {"ours": ours.as_dict()}
    if peer is not None:
        systems["peer"] = peer.as_dict()
    level_ratios = {
        kind: ratios(systems["ours"][kind], systems["peer"][kind]) if "peer" in systems else []
        for kind in ("e2e", "nlu")
    }
    return {
        "machine": machine,
        "settings": settings,
        "systems": systems,
        "ratios": level_ratios,
        "targets": targets(systems["ours"]["e2e"], level_ratios["e2e"]),
        "notes": notes,
    }


def _ms(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.0f}"


def _mb(value: Optional[int]) -> str:
    return "–" if value is None else f"{value / 2**20:.0f} MB"


def _errors(level: dict) -> str:
    if not level["error_count"]:
        return "0"
    kinds = ", ".join(f"{kind} {n}" for kind, n in level["errors"].items())
    return f"{level['error_count']} ({kinds})"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(report: dict) -> str:
    """The report as Markdown tables, ready to paste into the README."""
    machine = report["machine"]
    lines = [
        f"## make bench — {machine['date']}",
        "",
        f"{machine['cores']} cores ({machine['cpu_model']}), Python {machine['python']}, "
        f"Rasa {machine['rasa']}; 1-minute load average {machine['load_average_1m_at_start']} at the "
        f"start, {machine.get('load_average_1m_at_end', '–')} at the end (other jobs skew the figures).",
        "",
        "### Latency and throughput",
        "",
    ]
    rows = []
    for system, result in report["systems"].items():
        for kind in ("e2e", "nlu"):
            for level in result[kind]:
                rows.append([
                    SYSTEM_TITLES[system], KIND_TITLES[kind], str(level["concurrency"]),
                    str(level["answered"]), _errors(level), _ms(level["p50_ms"]), _ms(level["p95_ms"]),
                    _ms(level["p99_ms"]), f"{level['throughput']:.1f}",
                ])
    lines += _table(
        ["system", "what", "concurrency", "answered", "errors", "p50 ms", "p95 ms", "p99 ms", "msg/s"],
        rows,
    )
    if any(report["ratios"].values()):
        lines += ["", "### Anxin / starter bot", ""]
        lines += _table(
            ["what", "concurrency", "p50 ratio", "p95 ratio", "throughput ratio"],
            [
                [
                    KIND_TITLES[kind], str(row["concurrency"]),
                    _num(row["p50"]), _num(row["p95"]), _num(row["throughput"]),
                ]
                for kind, rows_ in report["ratios"].items()
                for row in rows_
            ],
        )
    lines += ["", "### Training, model size, peak memory", ""]
    rows = []
    for system, result in report["systems"].items():
        training = "not measured" if result["training_s"] is None else f"{result['training_s']:.0f} s"
        if result["training_note"]:
            training += f" ({result['training_note']})"
        title = SYSTEM_TITLES[system]
        rows.append([title, "training", training, _mb(result["training_peak_rss_bytes"])])
        rows.append([SYSTEM_TITLES[system], "model", _mb(result["model_bytes"]), ""])
        for process in result["processes"]:
            rows.append([SYSTEM_TITLES[system], process["name"], "", _mb(process["peak_rss_bytes"])])
    lines += _table(["system", "what", "time / size", "peak RSS"], rows)
    lines += ["", "### Targets (2 cores; a benchmark, not a timed test)", ""]
    lines += _table(
        ["target", "goal", "measured", "met"],
        [
            [t["name"], t["target"], t["measured"] or "not measured",
             "–" if t["met"] is None else ("met" if t["met"] else "NOT met")]
            for t in report["targets"]
        ],
    )
    if report["notes"]:
        lines += ["", "Notes:"] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def _num(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.2f}"
