"""The source register (``data/rules/sources.yml``): what each source id is and who may cite it.

POLICY.md section 2: every rule row cites a document of its own scope, and a
reply quotes only citations valid for the order's platform. The register holds
each source's scope (``law``, a list of platforms, or ``any`` for POLICY.md) and
the name a note may quote (``cited_as``), so the loader can refuse a JD row that
cites Taobao's rules and a reply audit can tell which 《…》 a Lazada buyer may read.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import re
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

import yaml

from bot.rules import vocabulary
from bot.rules.keys import LAW_SCOPE
from bot.rules.validation import RuleFileError, Where, require_mapping, require_text

SOURCES_FILE = "rules/sources.yml"
ANY_SCOPE = "any"
SOURCE_FIELDS = ("title", "cited_as", "scope")
# A quoted document in a rule note: 《title》, optionally with its article.
QUOTE = re.compile(r"(《[^》]{2,40}》)(第[一二三四五六七八九十百零、]+条|第[一二三四五六七八九十]+章)?")


@dataclasses.dataclass(frozen=True)
class Source:
    """One source of the register.

    Attributes:
        source_id: ``S1`` … or ``POLICY``.
        title: the plain-Chinese title shown to agents.
        cited_as: the 《…》 a rule note may quote to a buyer, or None (not quotable).
        scopes: ``law``, platform ids, or ``any``.
    """

    source_id: str
    title: str
    cited_as: Optional[str]
    scopes: FrozenSet[str]

    def serves(self, scope: str) -> bool:
        """Whether a row of ``scope`` (``law``, ``procedure`` or a platform) may cite it."""
        return ANY_SCOPE in self.scopes or scope in self.scopes


@dataclasses.dataclass(frozen=True)
class SourceRegister:
    """Every source by id, with the checks the loader and the reply audit need."""

    sources: Dict[str, Source]

    def title(self, source_id: str) -> str:
        """The source's title, or the id itself when it is not registered."""
        source = self.sources.get(source_id)
        return source.title if source else source_id

    def out_of_scope(self, scope: str, source_ids: Iterable[str]) -> Optional[str]:
        """Why a row of ``scope`` may not cite ``source_ids``, or None when it may."""
        for source_id in source_ids:
            source = self.sources.get(source_id)
            if source is None:
                return f"{source_id} is not in {SOURCES_FILE}"
            if not source.serves(scope):
                return (
                    f"{source_id} ({source.title}) is a source of "
                    f"{', '.join(sorted(source.scopes))}, not of {scope}"
                )
        return None

    def foreign_quote(self, note: Optional[str], source_ids: Iterable[str]) -> Optional[str]:
        """A 《…》 quoted in ``note`` that none of ``source_ids`` is cited as, or None."""
        allowed = {self.sources[s].cited_as for s in source_ids if s in self.sources}
        for name, _ in QUOTE.findall(note or ""):
            if name not in allowed:
                return name
        return None

    def quotable_for(self, platform: str, under_prc_law: bool) -> FrozenSet[str]:
        """The 《…》 names a buyer on ``platform`` may read (its own rules, PRC law if it applies)."""
        return frozenset(
            source.cited_as
            for source in self.sources.values()
            if source.cited_as
            and (platform in source.scopes or (under_prc_law and LAW_SCOPE in source.scopes))
        )


def _scopes(where: Where, raw: object) -> FrozenSet[str]:
    allowed = (LAW_SCOPE, ANY_SCOPE, *vocabulary.PLATFORMS)
    values: List[object] = list(raw) if isinstance(raw, list) else [raw]
    if not values:
        raise where.error("scope", "needs at least one scope")
    for value in values:
        if value not in allowed:
            raise where.error("scope", f"{value!r} is not one of {', '.join(allowed)}")
    return frozenset(str(value) for value in values)


def read_sources(data_dir: pathlib.Path) -> SourceRegister:
    """Read and check ``rules/sources.yml`` under ``data_dir``.

    Raises:
        RuleFileError: a missing file, an unknown field or scope, or a ``cited_as``
            that is not a 《…》 name.
    """
    path = data_dir / SOURCES_FILE
    label = str(path)
    if not path.is_file():
        raise RuleFileError(label, None, None, "file is missing")
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(content, dict) or not isinstance(content.get("sources"), dict):
        raise RuleFileError(label, None, "sources", "must be a mapping of source ids")
    sources: Dict[str, Source] = {}
    for source_id, raw in content["sources"].items():
        where = Where(label, f"source {source_id}")
        row = require_mapping(where, raw, SOURCE_FIELDS)
        cited_as = require_text(where, row, "cited_as", optional=True)
        if cited_as is not None and not re.fullmatch(r"《[^》]{2,40}》", cited_as):
            raise where.error("cited_as", f"{cited_as!r} is not a 《…》 name")
        sources[str(source_id)] = Source(
            source_id=str(source_id),
            title=require_text(where, row, "title"),
            cited_as=cited_as,
            scopes=_scopes(where, row.get("scope")),
        )
    return SourceRegister(sources)


@functools.lru_cache(maxsize=1)
def project_sources() -> SourceRegister:
    """The project's register (``data/rules/sources.yml``), read once."""
    return read_sources(pathlib.Path(__file__).resolve().parents[2] / "data")


def quotes(note: Optional[str]) -> Tuple[str, ...]:
    """The documents ``note`` quotes, each with its article when it names one."""
    return tuple(name + (article or "") for name, article in QUOTE.findall(note or ""))
