"""The multi-turn conversations the bench plays, read from ``data/bench/conversations.yml``.

Kept as data next to the other scripted conversations (``data/demo/``) so the
phrasing can change without touching the load generator, and checked on load:
a typo in a buyer id would otherwise show up as a bench full of errors.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Dict, List, Optional, Tuple

import yaml

from bot.settings import PROJECT_ROOT

CONVERSATIONS_FILE = PROJECT_ROOT / "data" / "bench" / "conversations.yml"
SYSTEMS = ("ours", "peer")
BUTTON_PREFIX = "/"


class BenchScriptError(ValueError):
    """The conversations file is malformed; the message says where."""


@dataclasses.dataclass(frozen=True)
class Conversation:
    """One scripted conversation.

    Attributes:
        name: what it exercises (shown in errors).
        turns: the messages the user sends, in order (``/…`` is a button payload).
        metadata: REST ``metadata`` (buyer_id, shop_id, platform), or None for the peer.
    """

    name: str
    turns: Tuple[str, ...]
    metadata: Optional[Dict[str, str]] = None

    @property
    def texts(self) -> List[str]:
        """The typed turns (no button payloads): what the NLU-only floor parses."""
        return [turn for turn in self.turns if not turn.startswith(BUTTON_PREFIX)]


def load_scripts(path: pathlib.Path = CONVERSATIONS_FILE) -> Dict[str, List[Conversation]]:
    """The conversations of ``ours`` and ``peer``; raises ``BenchScriptError`` when malformed."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise BenchScriptError(f"cannot read {path}: {error}") from error
    return parse_scripts(raw, source=str(path))


def parse_scripts(raw: object, source: str = "conversations") -> Dict[str, List[Conversation]]:
    """Check and convert the parsed YAML (see ``data/bench/conversations.yml``)."""
    if not isinstance(raw, dict):
        raise BenchScriptError(f"{source}: expected a mapping with {', '.join(SYSTEMS)}")
    scripts = {}
    for system in SYSTEMS:
        entries = raw.get(system)
        if not isinstance(entries, list) or not entries:
            raise BenchScriptError(f"{source}: `{system}` needs a non-empty list of conversations")
        scripts[system] = [
            _conversation(entry, f"{source}: {system}[{index}]", needs_buyer=system == "ours")
            for index, entry in enumerate(entries)
        ]
    return scripts


def _conversation(entry: object, where: str, *, needs_buyer: bool) -> Conversation:
    """One entry as a ``Conversation``."""
    if not isinstance(entry, dict):
        raise BenchScriptError(f"{where}: expected a mapping")
    name = entry.get("name")
    turns = entry.get("turns")
    if not isinstance(name, str) or not name.strip():
        raise BenchScriptError(f"{where}: needs a `name`")
    if (
        not isinstance(turns, list)
        or not turns
        or not all(isinstance(turn, str) and turn.strip() for turn in turns)
    ):
        raise BenchScriptError(f"{where} ({name}): `turns` must be a non-empty list of texts")
    metadata = None
    if needs_buyer:
        keys = {"buyer": "buyer_id", "shop": "shop_id", "platform": "platform"}
        missing = [key for key in keys if not isinstance(entry.get(key), str)]
        if missing:
            raise BenchScriptError(f"{where} ({name}): missing {', '.join(missing)}")
        metadata = {field: entry[key] for key, field in keys.items()}
    return Conversation(name=name, turns=tuple(turns), metadata=metadata)
