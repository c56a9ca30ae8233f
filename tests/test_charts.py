"""Charts plot the figures of the timeline and the group summary, with their labels and caption."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from incidents import api
from incidents.cli import cli
from incidents.errors import UsageError

from .conftest import FIXTURES


@pytest.fixture
def data(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, FIXTURES / "ucdp_ged_pakistan_2015_2021.csv")
    return db_url


def test_timeline_chart_plots_the_timeline(data: str, tmp_path: Path) -> None:
    figure = api.chart(data, "timeline", tmp_path / "t.svg", freq="year", by="actor")
    frame = api.timeline(data, freq="year", by="actor")
    top, bottom = figure.axes[:2]
    lines = {line.get_label(): line for line in top.get_lines()}
    iskp = frame[frame.group == "Islamic State Khorasan Province"]
    assert np.array_equal(lines["Islamic State Khorasan Province"].get_ydata(), iskp.incidents.to_numpy())
    killed = {line.get_label(): line for line in bottom.get_lines()}
    assert np.array_equal(killed["Islamic State Khorasan Province"].get_ydata(), iskp.killed_best.to_numpy())
    assert top.get_ylabel() == "incidents" and bottom.get_ylabel() == "killed (best estimate)"
    assert top.get_title() and top.get_legend() is not None
    assert top.get_legend().get_bbox_to_anchor().x0 > top.get_window_extent().x1  # beside the plot, not on it
    for axis in (top, bottom):
        assert all(float(tick).is_integer() for tick in axis.get_yticks())  # no quarter incidents
    caption = " ".join(" ".join(t.get_text() for t in figure.texts).split())
    # Plotted: the incidents with a perpetrator group (UCDP one-sided violence and the three seeds).
    raw = pd.read_csv(FIXTURES / "ucdp_ged_pakistan_2015_2021.csv", dtype=str, keep_default_na=False)
    one_sided = int((raw.type_of_violence == "3").sum())
    total = len(raw) + 3
    assert f"{one_sided + 3} of {total} incidents plotted" in caption
    assert f"Not plotted: {total - one_sided - 3} with no perpetrator group." in caption
    # the data named are those of the plotted incidents only
    assert f"UCDP GED ({one_sided})" in caption and "recorded here from sources (3)" in caption
    assert "sqlite:" not in caption and "postgresql" not in caption
    assert (tmp_path / "t.svg").read_text().startswith("<?xml")


def test_groups_chart_plots_the_summary(data: str, tmp_path: Path) -> None:
    figure = api.chart(data, "groups", tmp_path / "g.png", rollup=True)
    frame = api.summary(data, rollup=True)
    left, right = figure.axes[:2]
    widths = [bar.get_width() for bar in left.patches][::-1]  # drawn bottom-up
    assert widths == frame.incidents.head(15).tolist()
    assert [bar.get_width() for bar in right.patches][::-1] == frame.killed_best.head(15).tolist()
    assert all(float(tick).is_integer() for tick in left.get_xticks())
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


def test_many_groups_get_a_row_each(data: str, tmp_path: Path) -> None:
    """Seven groups on one monthly axis are a tangle: one row per group, incidents and killed side by side."""
    api.import_file(data, FIXTURES / "gtd_format_sample.csv")
    frame = api.timeline(data, freq="month", by="actor")
    groups = frame.groupby("group")["incidents"].sum().sort_values(ascending=False)
    assert len(groups) >= 4
    figure = api.chart(data, "timeline", tmp_path / "m.png", freq="month", by="actor")
    shown = min(len(groups), 6) + (1 if len(groups) > 6 else 0)
    assert len(figure.axes) == 2 * shown
    first = figure.axes[0]
    assert first.get_ylabel() == groups.index[0]
    for axis in figure.axes:
        assert all(float(tick).is_integer() for tick in axis.get_yticks()), axis.get_ylabel()
    bars = [bar.get_height() for bar in first.patches]
    assert bars == frame[frame.group == groups.index[0]].incidents.tolist()


def test_the_groups_caption_counts_only_the_bars_drawn(data: str, tmp_path: Path) -> None:
    figure = api.chart(data, "groups", tmp_path / "g.png", admin1="Balochistan", since="2018")
    caption = " ".join(" ".join(t.get_text() for t in figure.texts).split())
    bars = figure.axes[0].patches
    frame = api.summary(data, admin1="Balochistan", since="2018")
    assert [bar.get_width() for bar in bars][::-1] == frame.incidents.tolist()
    matching = api.incidents(data, admin1="Balochistan", since="2018", limit=None)[1]
    grouped = {row["key"] for name in frame.group
               for row in api.incidents(data, actor=name, admin1="Balochistan", since="2018", limit=None)[0]}
    assert f"{len(grouped)} of {matching} incidents plotted" in caption
    assert f"Not plotted: {matching - len(grouped)} with no perpetrator group" in caption
    assert "gap in a killed line" not in caption  # a bar chart has no lines


def test_nothing_to_chart_is_said_not_drawn(data: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", data, "chart", "timeline", "--since", "2030", "--out",
                                      str(tmp_path / "t.png")])
    assert result.exit_code == 3 and "Nothing to chart" in result.stderr and not (tmp_path / "t.png").exists()


def test_chart_needs_png_or_svg(data: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.png or \.svg"):
        api.chart(data, "groups", tmp_path / "g.pdf")
    result = CliRunner().invoke(cli, ["--db", data, "chart", "timeline", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 0 and (tmp_path / "x.png").exists()
