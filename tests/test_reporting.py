"""Timelines, summaries, gaps and the SQL views, on the seed fixtures plus the UCDP sample, on both engines.

Expected figures are computed here from the raw files (UCDP CSV, seed YAML), not typed in.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import Engine, text

from incidents import api
from incidents.analysis.filters import Filters
from incidents.analysis.summaries import group_summary
from incidents.analysis.timelines import event_log, gaps, timeline
from incidents.cli import cli
from incidents.db.engine import session_factory

from .conftest import FIXTURES

ISKP = "Islamic State Khorasan Province"


def ucdp_iskp_events() -> pd.DataFrame:
    """The UCDP rows that make ISKP a perpetrator: one-sided violence by 'IS' (UCDP's name for it in Pakistan)."""
    frame = pd.read_csv(FIXTURES / "ucdp_ged_pakistan_2015_2021.csv", dtype=str, keep_default_na=False)
    return frame[(frame.type_of_violence == "3") & (frame.side_a == "IS")]


def seed_incidents() -> list[dict]:
    return yaml.safe_load((FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8"))["incidents"]


def session(engine: Engine):
    return session_factory(engine)()


def test_iskp_yearly_timeline_matches_the_raw_files(reporting_engine: Engine) -> None:
    events = ucdp_iskp_events()
    expected_count = Counter(events.year.astype(int))
    expected_killed: Counter[int] = Counter()
    for _, row in events.iterrows():
        expected_killed[int(row.year)] += int(row.best)
    for item in seed_incidents():  # all three seeds are ISKP's, with the analyst's or derived best
        year = date.fromisoformat(str(item["date"])).year
        expected_count[year] += 1
        settled = [r for r in item["reports"] if not r.get("preliminary") and r.get("killed") is not None]
        latest = max(settled, key=lambda r: str(r.get("reported_on") or (r["source"].get("published_on") if
                                                                            isinstance(r["source"], dict) else
                                                                            "2025-10-16")))["killed"]
        expected_killed[year] += item.get("killed_best", latest)
    with session(reporting_engine) as s:
        frame = timeline(s, Filters(actor="IS-K"), freq="year")
    got = {ts.year: (n, k) for ts, n, k in zip(frame.period, frame.incidents, frame.killed_best, strict=True)}
    first, last = min(expected_count), max(expected_count)
    assert sorted(got) == list(range(first, last + 1))  # zero-filled: every year in the range is there
    for year in got:
        assert got[year] == (expected_count.get(year, 0), expected_killed.get(year, 0)), year


def test_zero_fill_covers_the_requested_range(reporting_engine: Engine) -> None:
    with session(reporting_engine) as s:
        frame = timeline(s, Filters(actor="ISKP", since="2010", until="2026"), freq="year")
    assert [ts.year for ts in frame.period] == list(range(2010, 2027))
    assert frame.set_index(frame.period.dt.year).loc[2012, "incidents"] == 0


def test_month_precision_events_are_counted_apart_at_weekly_frequency(db_url: str) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml"])
    api.add(db_url, date="2023-09", country="PAK", citation="month-only event", killed=5, perpetrators=["TTP"])
    api.add(db_url, date="2023-09-12", country="PAK", citation="day event", killed=2, perpetrators=["TTP"])
    weekly = api.timeline(db_url, freq="week", since="2023-09", until="2023-09")
    assert weekly.incidents.sum() == 1 and weekly.killed_best.sum() == 2
    assert weekly.attrs["unplaced"] == {"month": {"incidents": 1, "killed_best": 5}}
    monthly = api.timeline(db_url, freq="month", since="2023-09", until="2023-09")
    assert monthly.incidents.tolist() == [2] and monthly.attrs["unplaced"] == {}


def test_rollup_counts_a_group_and_its_faction_once(db_url: str) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml"])
    api.add(db_url, date="2016-03-27", country="PAK", citation="joint", killed=10,
            perpetrators=["TTP=attributed", "Jamaat-ul-Ahrar=claimed"])
    api.add(db_url, date="2016-04-02", country="PAK", citation="faction alone", killed=3,
            perpetrators=["Jamaat-ul-Ahrar=claimed"])
    plain = api.summary(db_url).set_index("group")
    assert plain.loc["Jamaat-ul-Ahrar", "incidents"] == 2 and plain.loc["Tehrik-i-Taliban Pakistan", "incidents"] == 1
    rolled = api.summary(db_url, rollup=True).set_index("group")
    assert "Jamaat-ul-Ahrar" not in rolled.index
    assert rolled.loc["Tehrik-i-Taliban Pakistan", "incidents"] == 2
    assert rolled.loc["Tehrik-i-Taliban Pakistan", "killed_best"] == 13
    assert rolled.loc["Tehrik-i-Taliban Pakistan", "claimed_share"] == pytest.approx(2 / 3, abs=0.001)
    by_actor = api.timeline(db_url, freq="year", by="actor", rollup=True)
    assert by_actor.groupby("group").incidents.sum().to_dict() == {"Tehrik-i-Taliban Pakistan": 2}


def test_group_summary_matches_the_raw_files(reporting_engine: Engine) -> None:
    events = ucdp_iskp_events()
    seeds = seed_incidents()
    with session(reporting_engine) as s:
        frame = group_summary(s, Filters(), as_of=date(2025, 10, 16)).set_index("group")
    iskp = frame.loc[ISKP]
    assert iskp.incidents == len(events) + len(seeds)
    dates = sorted([date.fromisoformat(d[:10]) for d in events.date_start] +
                   [date.fromisoformat(str(item["date"])) for item in seeds])
    assert (iskp.first_attack, iskp.last_attack) == (dates[0], dates[-1])
    assert iskp.days_since_last == (date(2025, 10, 16) - dates[-1]).days
    assert iskp.claimed_share == pytest.approx(len(seeds) / (len(events) + len(seeds)), abs=0.001)
    # Wounded: only the seeds carry wounded figures (UCDP has none); their range comes from settled reports.
    with session(reporting_engine) as s:
        from incidents.analysis.reads import incident_detail

        seeds_wounded = [incident_detail(s, item["key"])["wounded"] for item in seeds]
    assert iskp.wounded_low == sum(w["low"] or 0 for w in seeds_wounded)
    assert iskp.wounded_high == sum(w["high"] or 0 for w in seeds_wounded)
    assert frame.index[0] == frame.incidents.idxmax()  # most active first


def test_gaps_longest_spell_matches_the_raw_dates(reporting_engine: Engine) -> None:
    events = ucdp_iskp_events()
    days = sorted({date.fromisoformat(d[:10]) for d in events.date_start} |
                  {date.fromisoformat(str(item["date"])) for item in seed_incidents()})
    spells = sorted(((b - a).days, a, b) for a, b in zip(days, days[1:], strict=False))[::-1]
    with session(reporting_engine) as s:
        result = gaps(s, Filters(actor="ISKP"), as_of=date(2024, 12, 31))
    row = result.groups.set_index("group").loc[ISKP]
    assert row.longest_spells[0] == {"after": spells[0][1], "before": spells[0][2], "days": spells[0][0]}
    assert row.current_spell_days == (date(2024, 12, 31) - days[-1]).days
    years = result.years[result.years.group == ISKP].set_index("year")
    assert years.loc[2024, "incidents"] == 0 and years.loc[2024, "flag"] == "quiet"  # "a relatively quiet 2024"


# ---------------------------------------------------------------------------------------- views == pandas


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _num(value: object) -> int | None:
    """A count or a toll as a Python int, None when unknown (NULL, NaN or NA), so that unknown never equals 0."""
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _view(engine: Engine, sql: str) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(text(sql)).mappings().all())


def test_monthly_activity_view_equals_the_monthly_timeline(reporting_engine: Engine) -> None:
    view = _view(reporting_engine, "SELECT * FROM monthly_activity")
    with session(reporting_engine) as s:
        frame = timeline(s, Filters(), freq="month", by="actor")
    frame = frame[frame.incidents > 0]
    measures = ["incidents", "killed_best", "killed_low", "killed_high", "unknown_killed", "wounded_best",
                "unknown_wounded"]
    pandas_rows = {(g, p.strftime("%Y-%m"), *(_num(v) for v in values)) for g, p, *values in zip(
        frame.group, frame.period, *(frame[m] for m in measures), strict=True)}
    view_rows = {(r["actor"], r["month"], *(_num(r[m]) for m in measures)) for _, r in view.iterrows()}
    assert view_rows == pandas_rows and len(view_rows) > 20


def test_group_summary_view_equals_group_summary(reporting_engine: Engine) -> None:
    view = _view(reporting_engine, "SELECT * FROM group_summary").set_index("actor")
    with session(reporting_engine) as s:
        frame = group_summary(s, Filters()).set_index("group")
    assert set(view.index) == set(frame.index)
    for name in frame.index:
        for column in ("incidents", "killed_best", "killed_low", "killed_high", "unknown_killed", "wounded_best",
                       "unknown_wounded", "coarse_dated"):
            assert _num(view.loc[name, column]) == _num(frame.loc[name, column]), (name, column)
        for column in ("first_attack", "last_attack"):
            viewed, computed = view.loc[name, column], frame.loc[name, column]
            viewed_text = None if viewed is None or pd.isna(viewed) else str(viewed)[:10]
            assert viewed_text == (computed.isoformat() if computed else None), (name, column)
        assert int(view.loc[name, "claimed"]) / int(view.loc[name, "incidents"]) == pytest.approx(
            frame.loc[name, "claimed_share"], abs=0.001)


def test_incident_report_view_equals_the_event_log(reporting_engine: Engine) -> None:
    view = _view(reporting_engine, "SELECT * FROM incident_report").set_index("key")
    with session(reporting_engine) as s:
        log = event_log(s, Filters()).set_index("key")
    assert set(view.index) == set(log.index)
    for key in log.index:
        assert _text(view.loc[key, "perpetrators"]) == _text(log.loc[key, "perpetrators"]), key
        assert int(view.loc[key, "source_count"]) == int(log.loc[key, "sources"]), key
        for column in ("killed_low", "killed_best", "killed_high"):
            a, b = view.loc[key, column], log.loc[key, column]
            assert (pd.isna(a) and pd.isna(b)) or int(a) == int(b), (key, column)
    bajaur = view.loc["PAK-2023-07-30-KHAR"]
    assert bajaur.first_source_url == "https://en.dailypakistan.com.pk/30-Jul-2023/at-least-44-martyred-100-wounded-in-deadly-blast-at-jui-f-workers-convention-in-bajaur"


# --------------------------------------------------------------------------------------------------- CLI


def test_cli_reporting_commands(reporting_engine: Engine) -> None:
    url = reporting_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    tl = runner.invoke(cli, ["--db", url, "timeline", "--actor", "IS-K", "--freq", "year", "--json"])
    assert tl.exit_code == 0, tl.output
    periods = json.loads(tl.stdout)["periods"]
    assert sum(p["incidents"] for p in periods) == len(ucdp_iskp_events()) + len(seed_incidents())
    sm = runner.invoke(cli, ["--db", url, "summary", "--rollup", "--json"])
    assert sm.exit_code == 0 and json.loads(sm.stdout)[0]["group"]
    gp = runner.invoke(cli, ["--db", url, "gaps", "--actor", "ISKP", "--until", "2024", "--json"])
    assert gp.exit_code == 0 and json.loads(gp.stdout)["groups"][0]["group"] == ISKP
    bad = runner.invoke(cli, ["--db", url, "timeline", "--since", "soon"])
    assert bad.exit_code == 2 and "--since 'soon'" in bad.stderr
    table = runner.invoke(cli, ["--db", url, "timeline", "--freq", "week", "--since", "2018-07", "--until", "2018-07"])
    assert table.exit_code == 0 and "Timeline by week" in table.output
