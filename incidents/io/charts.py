"""Charts (matplotlib, Agg backend): a per-group timeline and a per-group bar chart, saved as PNG or SVG.

Each figure has a title, axis labels, a legend, and a caption with the date range and the data source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from incidents.errors import FieldError

MAX_SERIES = 8  # more lines than this are unreadable; the rest are summed as "other groups"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display needed, same output everywhere
    import matplotlib.pyplot as plt

    return plt


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in {".png", ".svg"}:
        raise FieldError("out", path.name, "is not a chart file: a chart is written as .png or .svg")


def _caption(figure: Any, caption: str) -> None:
    figure.text(0.01, 0.01, caption, fontsize=8, color="#555555", ha="left", va="bottom", wrap=True)


def timeline_chart(frame: pd.DataFrame, path: Path, title: str, caption: str) -> Any:
    """Incidents (top) and killed, best estimate (bottom) per period, one line per group."""
    _check_suffix(path)
    plt = _pyplot()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    if "group" in frame.columns and not frame.empty:
        totals = frame.groupby("group")["incidents"].sum().sort_values(ascending=False)
        keep = list(totals.index[:MAX_SERIES])
        series = {name: frame[frame.group == name] for name in keep}
        rest = frame[~frame.group.isin(keep)]
        if not rest.empty:
            series["other groups"] = rest.groupby("period", as_index=False)[["incidents", "killed_best"]].sum()
    else:
        series = {"all incidents": frame}
    for name, part in series.items():
        top.plot(part["period"], part["incidents"], marker="o", markersize=3, label=name)
        bottom.plot(part["period"], part["killed_best"], marker="o", markersize=3, label=name)
    top.set_ylabel("incidents")
    bottom.set_ylabel("killed (best estimate)")
    bottom.set_xlabel(f"period ({frame.attrs.get('freq', '')})")
    top.set_title(title)
    top.legend(loc="upper left", fontsize=8)
    _caption(figure, caption)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.savefig(path)
    plt.close(figure)
    return figure


def groups_chart(frame: pd.DataFrame, path: Path, title: str, caption: str, top_n: int = 15) -> Any:
    """Incidents and killed (best) per group, the most active groups first, as horizontal bars."""
    _check_suffix(path)
    plt = _pyplot()
    shown = frame.head(top_n).iloc[::-1]  # barh draws bottom-up; the most active group ends on top
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, max(3, 0.45 * len(shown) + 1.5)), sharey=True)
    left.barh(shown["group"], shown["incidents"], color="#4c72b0", label="incidents")
    right.barh(shown["group"], shown["killed_best"], color="#c44e52", label="killed (best estimate)")
    left.set_xlabel("incidents")
    right.set_xlabel("killed (best estimate)")
    left.set_ylabel("group")
    left.legend(loc="lower right", fontsize=8)
    right.legend(loc="lower right", fontsize=8)
    figure.suptitle(title)
    _caption(figure, caption)
    figure.tight_layout(rect=(0, 0.05, 1, 0.95))
    figure.savefig(path)
    plt.close(figure)
    return figure
