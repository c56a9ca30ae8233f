"""Charts (matplotlib, Agg backend): a per-group timeline and a per-group bar chart, saved as PNG or SVG.

Each figure has a title, axis labels, a legend, and a caption with the date range and the data source.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from incidents.errors import FieldError
from incidents.files import atomic_path

MAX_SERIES = 6  # more rows than this are unreadable; the rest are summed as "other groups"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display needed, same output everywhere
    import matplotlib.pyplot as plt

    return plt


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in {".png", ".svg"}:
        raise FieldError("out", path.name, "is not a chart file: a chart is written as .png or .svg")


TOP_GROUPS = 15  # bars in the groups chart; the caption says how many incidents the rest hold
CAPTION_WIDTH = 170  # characters a caption line holds at 8 pt across the figure


def _caption(figure: Any, caption: str) -> float:
    """Write the caption under the plots, wrapped; returns the share of the figure's height it takes, so that
    the plots are laid out above it and never under it."""
    import textwrap

    lines = textwrap.wrap(caption, CAPTION_WIDTH)
    figure.text(0.01, 0.01, "\n".join(lines), fontsize=8, color="#555555", ha="left", va="bottom")
    return min(0.4, (0.15 * len(lines) + 0.2) / figure.get_figheight())


SMALL_MULTIPLES_FROM = 4  # this many lines or more on one axis are a tangle: one row per group instead


def _whole_numbers(*axes: Any) -> None:
    """Counts have no quarter incidents: ticks on whole numbers only."""
    from matplotlib.ticker import MaxNLocator

    for axis in axes:
        axis.set_ylim(bottom=0, top=max(1.0, axis.get_ylim()[1]))  # an all-zero series gets 0..1, not -0.05..0.05
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))


def _series(frame: pd.DataFrame, other: str = "other groups") -> dict[str, pd.DataFrame]:
    """The groups to draw, most incidents first, at most MAX_SERIES, the rest summed as `other`."""
    if "group" not in frame.columns or frame.empty:
        return {"all incidents": frame}
    totals = frame.groupby("group")["incidents"].sum().sort_values(ascending=False)
    keep = list(totals.index[:MAX_SERIES])
    series = {name: frame[frame.group == name] for name in keep}
    rest = frame[~frame.group.isin(keep)]
    if not rest.empty:
        series[other] = rest.groupby("period", as_index=False)[["incidents", "killed_best"]].sum(
            min_count=1)
    return series


def timeline_chart(frame: pd.DataFrame, path: Path, title: str, caption: str, other: str = "other groups") -> Any:
    """Incidents and killed (best estimate) per period. Up to three groups: one line each on two panels, the
    legend beside the plot; more: one row per group (incidents as bars, killed as a line), so none hides another."""
    _check_suffix(path)
    plt = _pyplot()
    series = _series(frame, other)
    if len(series) < SMALL_MULTIPLES_FROM:
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
        for name, part in series.items():
            top.plot(part["period"], part["incidents"], marker="o", markersize=3, label=name)
            bottom.plot(part["period"], part["killed_best"].astype("float"), marker="o", markersize=3, label=name)
        top.set_ylabel("incidents")
        bottom.set_ylabel("killed (best estimate)")
        bottom.set_xlabel(f"period ({frame.attrs.get('freq', '')})")
        top.set_title(title)
        top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)  # beside, not over
        _whole_numbers(top, bottom)
        _keep_dates_drawable(figure, frame)
        figure.tight_layout(rect=(0, _caption(figure, caption), 1, 1))
    else:
        rows = len(series)
        figure, axes = plt.subplots(rows, 2, figsize=(12, 1.6 * rows + 1.6), sharex=True, squeeze=False)
        width = _bar_width(frame)
        for row, (name, part) in enumerate(series.items()):
            left, right = axes[row]
            left.bar(part["period"], part["incidents"], width=width, color="#4c72b0", label=name)
            right.plot(part["period"], part["killed_best"].astype("float"), color="#c44e52", marker="o",
                       markersize=2, label=name)
            left.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
            _whole_numbers(left, right)
        axes[0][0].set_title("incidents")
        axes[0][1].set_title("killed (best estimate)")
        axes[-1][0].set_xlabel(f"period ({frame.attrs.get('freq', '')})")
        axes[-1][1].set_xlabel(f"period ({frame.attrs.get('freq', '')})")
        figure.suptitle(title)
        _keep_dates_drawable(figure, frame)
        figure.tight_layout(rect=(0, _caption(figure, caption), 1, 0.97))
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix.lower().lstrip("."))
    plt.close(figure)
    return figure


def _keep_dates_drawable(figure: Any, frame: pd.DataFrame) -> None:
    """Matplotlib draws dates from year 1 to 9999 only, and pads the axis by 5% of the span: a timeline from
    0001 made it draw year -101 and fail. The padding is kept inside the years it can draw."""
    if frame.empty:
        return
    first = pd.Timestamp(frame["period"].min()).to_pydatetime()
    last = pd.Timestamp(frame["period"].max()).to_pydatetime()
    pad = max((last - first) * 0.03, timedelta(days=15))
    low = first - pad if first - datetime(1, 1, 1) > pad else datetime(1, 1, 1)
    high = last + pad if datetime(9999, 12, 31) - last > pad else datetime(9999, 12, 31)
    for axis in figure.axes:
        axis.set_xlim(low, high)


def _bar_width(frame: pd.DataFrame) -> float:
    """Bars as wide as most of a period, in days (matplotlib's date unit)."""
    days = {"day": 1, "week": 7, "month": 30, "quarter": 91, "year": 365}.get(frame.attrs.get("freq", "month"), 30)
    return days * 0.8


def groups_chart(frame: pd.DataFrame, path: Path, title: str, caption: str, top_n: int = TOP_GROUPS) -> Any:
    """Incidents and killed (best) per group, the most active groups first, as horizontal bars."""
    _check_suffix(path)
    plt = _pyplot()
    shown = frame.head(top_n).iloc[::-1]  # barh draws bottom-up; the most active group ends on top
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, max(3, 0.45 * len(shown) + 1.5)), sharey=True)
    left.barh(shown["group"], shown["incidents"], color="#4c72b0", label="incidents")
    killed = shown["killed_best"].astype("float")
    right.barh(shown["group"], killed.fillna(0), color="#c44e52", label="killed (best estimate)")
    for position, value in enumerate(killed):
        if pd.isna(value):  # no toll of the group is known: say so, rather than draw what looks like 0
            right.text(0, position, " unknown", va="center", ha="left", fontsize=8, color="#555555")
    left.set_xlabel("incidents")
    right.set_xlabel("killed (best estimate)")
    left.set_ylabel("group")
    from matplotlib.ticker import MaxNLocator

    for axis in (left, right):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(title)
    figure.tight_layout(rect=(0, _caption(figure, caption), 1, 0.95))
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix.lower().lstrip("."))
    plt.close(figure)
    return figure
