"""The report's charts as PNG bytes, drawn with matplotlib's Agg canvas (no display).

Labels are Chinese, and matplotlib's default font has no CJK glyphs: without a CJK
font every label becomes a row of boxes. So the first chart looks for one (the
WenQuanYi font `make browser` installs, else any font fontconfig or matplotlib
knows for Chinese) and registers it. A machine without any still gets its charts,
with a warning saying what to install.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import pathlib
import shutil
import subprocess
from typing import List, Optional

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.assist.analytics import ChartData

logger = logging.getLogger(__name__)

PREFERRED_FONT_FILE = pathlib.Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# Families known to carry CJK glyphs, tried when fontconfig cannot be asked.
KNOWN_CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
# Colour of single-series bars; stacked series take matplotlib's default cycle.
BAR_COLOUR = "#4C78A8"
# More category labels than this (a long date range) and only every n-th is shown.
MAX_TICKS = 31
# Charts widen with their categories up to this many inches (a year of days would not fit).
MAX_WIDTH_IN = 14.0


def _fontconfig_cjk_file() -> Optional[pathlib.Path]:
    """A font file fontconfig lists for Chinese, if fc-list is installed."""
    if shutil.which("fc-list") is None:
        return None
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listed.splitlines():
        path = pathlib.Path(line.strip().rstrip(":"))
        if path.suffix.lower() in (".ttf", ".ttc", ".otf") and path.exists():
            return path
    return None


@functools.lru_cache(maxsize=None)
def cjk_font_family() -> List[str]:
    """The font family list for the charts, led by a CJK font when one is installed.

    Registers the font file with matplotlib once per process. Logs a warning
    (never raises) when no CJK font is found: the charts are still drawn.
    """
    font_file = PREFERRED_FONT_FILE if PREFERRED_FONT_FILE.exists() else _fontconfig_cjk_file()
    if font_file is not None:
        try:
            font_manager.fontManager.addfont(str(font_file))
            family = font_manager.FontProperties(fname=str(font_file)).get_name()
            return [family, "DejaVu Sans"]
        except (OSError, RuntimeError, ValueError) as error:
            logger.warning("Could not load the CJK font %s (%s).", font_file, error)
    installed = {font.name for font in font_manager.fontManager.ttflist}
    known = [name for name in KNOWN_CJK_FAMILIES if name in installed]
    if not known:
        logger.warning(
            "No font with Chinese glyphs found: chart labels will show as boxes. "
            "Install one, e.g. `apt-get install fonts-wqy-microhei`."
        )
    return known + ["DejaVu Sans"]


def render_png(chart: ChartData) -> bytes:
    """Draw ``chart`` as bars (several series stacked) and return the PNG bytes."""
    with rc_context({"font.family": cjk_font_family(), "axes.unicode_minus": False}):
        width = min(max(6.4, 0.32 * len(chart.categories) + 2.5), MAX_WIDTH_IN)
        figure = Figure(figsize=(width, 4.2), dpi=100)
        canvas = FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(len(chart.categories)))
        bottoms = [0.0] * len(positions)
        single = len(chart.series) == 1
        for name, values in chart.series.items():
            options = {"label": name, "color": BAR_COLOUR} if single else {"label": name}
            if chart.horizontal:
                bars = axes.barh(positions, values, left=bottoms, **options)
            else:
                bars = axes.bar(positions, values, bottom=bottoms, **options)
            if single:
                axes.bar_label(bars, labels=[_number(v) if v else "" for v in values])
            bottoms = [b + v for b, v in zip(bottoms, values)]
        _label_axes(axes, chart, positions)
        if not single and chart.series:
            axes.legend(fontsize="small")
        axes.set_title(chart.title)
        figure.tight_layout()
        buffer = io.BytesIO()
        canvas.print_png(buffer)
    return buffer.getvalue()


def _label_axes(axes: Axes, chart: ChartData, positions: List[int]) -> None:
    """Category ticks (thinned on long ranges so the labels stay readable) and value axis."""
    step = max(1, math.ceil(len(positions) / MAX_TICKS))
    ticks = positions[::step]
    labels = chart.categories[::step]
    value_axis = axes.xaxis if chart.horizontal else axes.yaxis
    value_axis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.25 steps
    axes.margins(**{"x" if chart.horizontal else "y": 0.08})  # room for the bar labels
    if chart.horizontal:
        axes.set_yticks(ticks)
        axes.set_yticklabels(labels)
        axes.invert_yaxis()
        axes.set_xlabel(chart.value_label)
    else:
        axes.set_xticks(ticks)
        rotate = len(positions) > 8
        axes.set_xticklabels(
            labels, rotation=45 if rotate else 0, ha="right" if rotate else "center"
        )
        axes.set_ylabel(chart.value_label)
    if not positions:
        axes.text(0.5, 0.5, "无数据", ha="center", va="center", transform=axes.transAxes)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
