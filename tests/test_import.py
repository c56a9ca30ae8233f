"""Imports of GTD, UCDP GED, ACLED and native files on both engines.

Expected figures are computed here from the raw sample files, not typed in.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from incidents.analysis.reads import incident_detail
from incidents.cli import cli
from incidents.db.engine import session_factory
from incidents.errors import InputError, UsageError
from incidents.io.importing import ImportOptions, run_import
from incidents.models import Actor, Import, Incident, IncidentActor, Location, Report, Revision, Source

from .conftest import FIXTURES

UCDP = FIXTURES / "ucdp_ged_pakistan_2015_2021.csv"
GTD = FIXTURES / "gtd_format_sample.csv"
ACLED = FIXTURES / "acled_format_sample.csv"


def imp(engine: Engine, path: Path, **options: Any):
    return run_import(engine, path, ImportOptions(**options))


def count(engine: Engine, model: Any) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def incident(engine: Engine, key: str) -> dict[str, Any]:
    with session_factory(engine)() as session:
        return incident_detail(session, key)


def ucdp_frame() -> pd.DataFrame:
    return pd.read_csv(UCDP, dtype=str, keep_default_na=False)


def write_rows(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding=encoding) as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


# ------------------------------------------------------------------------------------------ real samples


def test_ucdp_sample_imports_every_record(seeded: Engine) -> None:
    frame = ucdp_frame()
    result = imp(seeded, UCDP)
    assert result.read == len(frame) == result.inserted  # records, not physical lines (825)
    assert result.rejected == 0 and result.reconciles()
    with session_factory(seeded)() as session:
        stored = session.scalar(select(func.count()).where(Incident.origin_dataset == "ucdp"))
    assert stored == len(frame)


def test_ucdp_figures_roles_and_sources_follow_the_raw_rows(seeded: Engine) -> None:
    imp(seeded, UCDP)
    frame = ucdp_frame()
    sample = pd.concat([frame[frame.type_of_violence == t].head(4) for t in ("1", "2", "3")]
                       + [frame[frame.source_article.str.contains(";")].head(3)])
    for _, row in sample.iterrows():
        detail = incident(seeded, f"UCDP-{row['id']}")
        best, low, high = int(row["best"]), int(row["low"]), int(row["high"])
        assert detail["killed"]["best"] == best
        assert (detail["killed"]["low"], detail["killed"]["high"]) == (min(low, best), max(high, best))
        roles = sorted((a["actor"], a["role"]) for a in detail["actors"])
        if row["type_of_violence"] == "3":
            assert {role for _, role in roles} == {"perpetrator", "target"}
        else:
            assert {role for _, role in roles} == {"party"}
        citations = next(csv.reader([row["source_article"].replace("\n", " ")], delimiter=";",
                                    skipinitialspace=True))
        article_reports = [r for r in detail["reports"] if r["source"]["kind"] == "article"]
        assert len(article_reports) == len({c.strip() for c in citations if c.strip()})
        assert detail["date_start"] == row["date_start"][:10]


def test_ucdp_is_in_pakistan_is_iskp_and_mastung_matches_the_facts(seeded: Engine) -> None:
    imp(seeded, UCDP)
    with open(FIXTURES / "seed_incidents_facts.csv", encoding="utf-8") as handle:
        facts = {row["incident_id"]: row for row in csv.DictReader(handle)}
    for key in ("PAK-2018-07-13-MASTUNG", "PAK-2018-11-23-KALAYA"):
        detail = incident(seeded, f"UCDP-{facts[key]['ucdp_id']}")
        assert detail["actors"][0]["actor"] == "Islamic State Khorasan Province"
        assert detail["killed"]["best"] == int(facts[key]["ucdp_best"])
        assert detail["date_start"] == facts[key]["ucdp_date_start"]  # Kalaya: UCDP's 24 November


def test_ucdp_high_below_best_is_kept_with_a_note(engine: Engine) -> None:
    frame = ucdp_frame()
    quirky = frame[frame.high.astype(int) < frame.best.astype(int)].iloc[0]
    imp(engine, UCDP)
    detail = incident(engine, f"UCDP-{quirky['id']}")
    dataset_report = next(r for r in detail["reports"] if r["source"]["kind"] == "dataset_record")
    assert f"high ({quirky['high']}) is below its best ({quirky['best']})" in dataset_report["note"]
    assert detail["killed"]["high"] == int(quirky["best"])


def test_gtd_sample_maps_codebook_columns(seeded: Engine) -> None:
    frame = pd.read_csv(GTD, encoding="latin-1", dtype=str, keep_default_na=False)
    result = imp(seeded, GTD)
    assert result.inserted == len(frame) and result.rejected == 0
    for _, row in frame.iterrows():
        detail = incident(seeded, f"GTD-{row['eventid']}")
        dataset_report = next(r for r in detail["reports"] if r["source"]["kind"] == "dataset_record")
        nkill = row["nkill"]
        expected = None if nkill in ("", "-9", "-99") else int(float(nkill))
        assert dataset_report["killed"] == expected, row["eventid"]
        nkillter = row["nkillter"]
        assert detail["perpetrators_killed"] == (None if nkillter in ("", "-9", "-99") else int(float(nkillter)))
        month, day = int(row["imonth"]), int(row["iday"])
        assert detail["date_precision"] == ("year" if month == 0 else "month" if day == 0 else "day")
        scites = {row[c] for c in ("scite1", "scite2", "scite3") if row[c]}
        assert len([r for r in detail["reports"] if r["source"]["kind"] == "article"]) == len(scites)
        names = [row[c] for c in ("gname", "gname2", "gname3") if row[c]]
        assert len([a for a in detail["actors"] if a["role"] == "perpetrator"]) == len(names)


def test_gtd_two_groups_unknowns_and_encoding(seeded: Engine) -> None:
    imp(seeded, GTD)
    quetta = incident(seeded, "GTD-201608089905")  # ISKP and Jamaat-ul-Ahrar both claimed it
    attributions = {a["actor"]: a["attribution"] for a in quetta["actors"]}
    assert attributions == {"Islamic State Khorasan Province": "claimed", "Jamaat-ul-Ahrar": "claimed"}
    assert incident(seeded, "GTD-201810139912")["killed"]["best"] is None  # -99 is unknown, not a count
    assert incident(seeded, "GTD-201502099908")["killed"]["best"] is None  # blank is unknown
    january = incident(seeded, "GTD-201701009911")
    assert (january["date"], january["date_precision"]) == ("2017-01", "month")
    with session_factory(seeded)() as session:
        raw = session.scalar(select(Incident.raw_row).where(Incident.key == "GTD-201503149910"))
    assert raw is not None and raw["targsubtype1_txt"] == "Restaurant/Bar/Café"  # latin-1 decoded, not mangled
    mastung = incident(seeded, "GTD-201807139901")
    titles = {r["source"]["title"] for r in mastung["reports"] if r["source"]["kind"] == "article"}
    assert "Mastung suicide blast martyrs 128, including BAP candidate Siraj Raisani" in titles


def test_acled_sample(seeded: Engine) -> None:
    frame = pd.read_csv(ACLED, dtype=str, keep_default_na=False)
    result = imp(seeded, ACLED)
    assert result.inserted == len(frame)
    for _, row in frame.iterrows():
        detail = incident(seeded, f"ACLED-{row['event_id_cnty']}")
        assert detail["killed"]["best"] == int(row["fatalities"])
        perpetrators = [a for a in detail["actors"] if a["role"] == "perpetrator"]
        targets = [a for a in detail["actors"] if a["role"] == "target"]
        assert len(perpetrators) == len([x for x in (row["actor1"], row["assoc_actor_1"]) if x])
        assert len(targets) == len([x for x in (row["actor2"], row["assoc_actor_2"]) if x])
        assert detail["summary"] == row["notes"]


# ------------------------------------------------------------------------------ repeat, update, variants


def test_reimport_is_a_no_op(engine: Engine) -> None:
    first = imp(engine, UCDP)
    before = (count(engine, Incident), count(engine, Report), count(engine, Source), count(engine, IncidentActor))
    again = imp(engine, UCDP)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted)
    assert (count(engine, Incident), count(engine, Report), count(engine, Source),
            count(engine, IncidentActor)) == before
    assert count(engine, Revision) == 0
    assert count(engine, Import) == 2  # each run is recorded


def test_newer_release_updates_changed_rows_with_revisions(engine: Engine, tmp_path: Path) -> None:
    imp(engine, UCDP)
    header, rows = read_rows(UCDP)
    best, high = header.index("best"), header.index("high")
    changed = next(i for i, row in enumerate(rows) if row[header.index("type_of_violence")] == "3")
    rows[changed][best] = str(int(rows[changed][best]) + 1)
    rows[changed][high] = str(max(int(rows[changed][high]), int(rows[changed][best])))
    result = imp(engine, write_rows(tmp_path / "ged_next.csv", header, rows))
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, len(rows) - 1)
    with session_factory(engine)() as session:
        revisions = session.execute(
            select(Revision.table_name, Revision.field, Revision.new_value, Revision.import_id)
        ).all()
    assert ("incidents", "killed_best", rows[changed][best], result.import_id) in revisions
    assert ("reports", "killed", rows[changed][best], result.import_id) in revisions
    assert incident(engine, f"UCDP-{rows[changed][0]}")["killed"]["best"] == int(rows[changed][best])


def test_hxl_row_is_skipped(engine: Engine, tmp_path: Path) -> None:
    header, rows = read_rows(UCDP)
    hxl = ["#" + name.replace("_", "+") for name in header]
    result = imp(engine, write_rows(tmp_path / "hdx.csv", header, [hxl, *rows[:20]]))
    assert result.read == 20 and result.inserted == 20
    assert any("HXL" in note for note in result.notes)


def test_gzip_is_read_directly(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "acled.csv.gz"
    path.write_bytes(gzip.compress(ACLED.read_bytes()))
    assert imp(engine, path).inserted == len(read_rows(ACLED)[1])


def test_gtd_xlsx(engine: Engine, tmp_path: Path) -> None:
    import openpyxl

    header, rows = read_rows(GTD, encoding="latin-1")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:  # numbers as numbers, as START's workbook has them
        sheet.append([float(v) if v.lstrip("-").replace(".", "", 1).isdigit() else v for v in row])
    book.save(tmp_path / "gtd.xlsx")
    result = imp(engine, tmp_path / "gtd.xlsx")
    assert result.inserted == len(rows) and result.format == "gtd"
    assert incident(engine, "GTD-201807139901")["killed"]["best"] == 150


def test_gtd_without_eventid_keeps_identical_rows_apart(engine: Engine, tmp_path: Path) -> None:
    header, rows = read_rows(GTD, encoding="latin-1")
    keep = [i for i, name in enumerate(header) if name != "eventid"]
    subset = [[row[i] for i in keep] for row in rows]
    subset.append(list(subset[0]))  # the same attack twice, as a coordinated series is recorded
    path = write_rows(tmp_path / "no_eventid.csv", [header[i] for i in keep], subset, encoding="latin-1")
    result = imp(engine, path)
    assert result.inserted == len(subset) and any("no eventid" in note for note in result.notes)
    assert imp(engine, path).unchanged == len(subset)  # the content keys are stable


def test_gtd_derived_subset_needs_a_country(engine: Engine, tmp_path: Path) -> None:
    """With coordinates, each row's country comes from its point (tests/test_places.py); without them either, the
    file needs the import's country."""
    columns = ["iyear", "imonth", "iday", "provstate", "city", "suicide",
               "attacktype1_txt", "targtype1_txt", "gname", "weaptype1_txt", "nkill", "nkillter", "nwound"]
    header, rows = read_rows(GTD, encoding="latin-1")
    subset = [[row[header.index(c)] for c in columns] for row in rows]
    path = write_rows(tmp_path / "derived.csv", columns, subset)
    # Said once, before any row is read (not once per row): the file has no country column at all.
    with pytest.raises(UsageError, match=r"derived.csv: the file has no country column .* with country"):
        imp(engine, path)
    assert imp(engine, path, country="PAK").inserted == len(rows)



def test_gtd_numeric_country_codes_are_not_read_as_iso(engine: Engine, tmp_path: Path) -> None:
    """GTD's `country` column is GTD's own code (153 Pakistan, 92 India), not ISO 3166's (092 is the British
    Virgin Islands): with country_txt blank, the row needs the import's country, not a guess from the code."""
    header, rows = read_rows(GTD, encoding="latin-1")
    code, name = header.index("country"), header.index("country_txt")
    assert {row[code] for row in rows} and all(row[code].isdigit() for row in rows)
    for row in rows:
        row[name] = ""
    rows[0][code] = "92"  # GTD's India; read as ISO it would be the British Virgin Islands
    path = write_rows(tmp_path / "codes.csv", header, rows, encoding="latin-1")
    with pytest.raises(InputError, match=r"codes.csv:2: column country_txt: '' is blank"):
        imp(engine, path)
    assert imp(engine, path, country="PAK").inserted == len(rows)
    with session_factory(engine)() as session:
        countries = set(session.scalars(select(Location.country)))
    assert countries == {"PAK"}


def test_every_source_field_of_a_native_row_is_stored(engine: Engine, tmp_path: Path) -> None:
    """The fast path of imports writes the same source columns as a single edit: the release of a dataset
    record, the author and the language of an article included."""
    sources = [
        {"dataset": "ucdp", "record_id": "274819", "kind": "dataset_record", "dataset_release": "GED 23.1"},
        {"url": "https://example.org/a", "outlet": "Dawn", "author": "A. Writer", "language": "en",
         "published_on": "2018-07-14"},
    ]
    reports = json.dumps([{"source": source, "killed": 128} for source in sources])
    path = tmp_path / "native.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([["key", "date", "country", "reports"], ["K-1", "2018-07-13", "PAK", reports]])
    imp(engine, path)
    with session_factory(engine)() as session:
        stored = {source.dataset or source.url: source for source in session.scalars(select(Source))}
    assert stored["ucdp"].dataset_release == "GED 23.1" and stored["ucdp"].kind == "dataset_record"
    article = stored["https://example.org/a"]
    assert (article.author, article.language, str(article.published_on)) == ("A. Writer", "en", "2018-07-14")


def test_a_source_of_an_unknown_kind_is_a_row_error(engine: Engine, tmp_path: Path) -> None:
    reports = json.dumps([{"source": {"citation": "c", "kind": "rumour"}, "killed": 1}])
    path = tmp_path / "native.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([["key", "date", "country", "reports"], ["K-1", "2018-07-13", "PAK", reports]])
    with pytest.raises(InputError, match=r"native.csv:2: column reports: 'rumour' is not one of: article"):
        imp(engine, path)

# ---------------------------------------------------------------------------------------------- bad input

NATIVE_HEADER = ["key", "date", "country", "admin1", "place", "latitude", "longitude", "perpetrators",
                 "killed_low", "killed_best", "killed_high", "source_url"]
GOOD_NATIVE = ["K1", "2018-07-13", "PAK", "Balochistan", "Mastung", "29.8", "66.85", "ISKP=claimed", "", "149", "",
               "https://example.org/a"]


def native_file(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """Two good rows and a third with `changes` applied, as line 4 of the file."""
    second = [*GOOD_NATIVE]
    second[0], second[-1] = "K2", "https://example.org/b"
    bad = [*GOOD_NATIVE]
    bad[0], bad[-1] = "K3", "https://example.org/c"
    for column, value in changes:
        bad[NATIVE_HEADER.index(column)] = value
    return write_rows(tmp_path / "bad.csv", NATIVE_HEADER, [GOOD_NATIVE, second, bad])


BAD_ROWS = {
    "unparseable date": (("date", "2018-13-45"), r"bad.csv:4: column date: '2018-13-45' is not a real date"),
    "negative toll": (("killed_best", "-3"), r"bad.csv:4: column killed_best: '-3' is negative"),
    "words for a toll": (("killed_best", "sixty"), r"bad.csv:4: column killed_best: 'sixty' is not a whole number"),
    "low above high": ((("killed_low", "10"), ("killed_high", "5"), ("killed_best", "")),
                       r"bad.csv:4: column killed_low: '10' is above killed_high 5"),
    "latitude out of range": (("latitude", "95.5"), r"bad.csv:4: column latitude: '95.5' is out of range"),
    "duplicate key": (("key", "K1"), r"bad.csv:4: column key: 'K1' repeats the key of line 2"),
}


@pytest.mark.parametrize("changes,message", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_bad_row_names_file_line_column_and_value_and_writes_nothing(
    engine: Engine, tmp_path: Path, changes: Any, message: str
) -> None:
    changes = changes if isinstance(changes[0], tuple) else (changes,)
    with pytest.raises(InputError, match=message):
        imp(engine, native_file(tmp_path, *changes))
    assert count(engine, Incident) == 0 and count(engine, Source) == 0 and count(engine, Import) == 0


def test_duplicate_origin_id_in_one_file(engine: Engine, tmp_path: Path) -> None:
    header, rows = read_rows(UCDP)
    path = write_rows(tmp_path / "dup.csv", header, [*rows[:3], rows[1]])
    with pytest.raises(InputError, match=rf"dup.csv:5: column id: '{rows[1][0]}' repeats the origin id of line 3"):
        imp(engine, path)
    assert count(engine, Incident) == 0


def test_truncated_row(engine: Engine, tmp_path: Path) -> None:
    path = native_file(tmp_path)
    text = path.read_text(encoding="utf-8").splitlines()
    text[3] = ",".join(text[3].split(",")[:5])
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv:4: column latitude: row is truncated: 5 fields, the header has 12"):
        imp(engine, path)


@pytest.mark.parametrize(
    "content,message",
    [
        ("", r"x.csv: the file is empty"),
        ("date,perpetrators,source_url\n2018,ISKP,u\n", r"x.csv:1: missing required column 'country'"),
        ("alpha,beta\n1,2\n", r"x.csv: unknown format"),
        ("date,country,date,perpetrators,source_url\n", r"column\(s\) date appear more than once"),
    ],
    ids=["empty file", "missing required column", "unknown format", "duplicate header"],
)
def test_file_level_errors(engine: Engine, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        imp(engine, path)
    assert count(engine, Import) == 0


def test_wrong_encoding_names_the_line(engine: Engine, tmp_path: Path) -> None:
    rows = [GOOD_NATIVE, ["K2", "2018-07-13", "PAK", "Balochistan", "Sehwān", "", "", "", "", "", "",
                          "https://example.org/b"]]
    path = tmp_path / "latin.csv"
    path.write_bytes(io.StringIO().getvalue().encode())
    with path.open("w", newline="", encoding="latin-1", errors="replace") as handle:
        writer = csv.writer(handle)
        writer.writerow(NATIVE_HEADER)
        rows[1][4] = "Café"
        writer.writerows(rows)
    with pytest.raises(InputError, match=r"latin.csv:3: byte b'\\xe9' is not utf-8"):
        imp(engine, path, format="native")
    with pytest.raises(InputError, match=r"latin.csv:3: byte b'\\xe9' is not utf-8"):
        imp(engine, path)  # detected as native, then refused for its encoding


def test_skip_commits_valid_rows_and_writes_rejects(engine: Engine, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    result = imp(engine, native_file(tmp_path, ("killed_best", "-3")), on_error="skip", rejects=rejects)
    assert (result.read, result.inserted, result.rejected) == (3, 2, 1) and result.reconciles()
    assert count(engine, Incident) == 2
    with rejects.open(newline="", encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert len(rejected) == 1 and rejected[0]["_line"] == "4" and "negative" in rejected[0]["_error"]
    assert rejected[0]["key"] == "K3"  # the row itself, as read


def test_dry_run_counts_but_writes_nothing(engine: Engine) -> None:
    result = imp(engine, ACLED, dry_run=True)
    assert result.inserted == len(read_rows(ACLED)[1]) and not result.committed
    assert count(engine, Incident) == 0 and count(engine, Actor) == 0 and count(engine, Import) == 0


def test_strict_actors_reject_unknown_names(engine: Engine) -> None:
    result = imp(engine, ACLED, on_error="skip", actor_policy="strict")
    assert result.inserted == 0 and result.rejected == len(read_rows(ACLED)[1])
    assert "unknown actor" in result.errors[0]


def test_native_reports_column_carries_every_report(engine: Engine, tmp_path: Path) -> None:
    reports = [
        {"source": {"url": "https://example.org/early", "published_on": "2018-07-13"}, "killed": 10,
         "preliminary": True},
        {"source": {"url": "https://example.org/later", "published_on": "2018-07-14"}, "killed": 128},
        {"source": {"citation": "Wire, 2018-07-20", "published_on": "2018-07-20"}, "killed": 149},
    ]
    path = write_rows(tmp_path / "n.csv", ["key", "date", "country", "perpetrators", "reports"],
                      [["M", "2018-07-13", "Pakistan", "ISKP=claimed", json.dumps(reports)]])
    imp(engine, path)
    detail = incident(engine, "M")
    assert (detail["killed"]["low"], detail["killed"]["best"], detail["killed"]["high"]) == (128, 149, 149)
    assert len(detail["reports"]) == 3


# ------------------------------------------------------------------------------------------------------ CLI


def test_cli_import_json_and_summary(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["--db", db_url, "import", str(ACLED), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["read"] == counts["inserted"] + counts["updated"] + counts["unchanged"] + counts["rejected"]
    again = CliRunner().invoke(cli, ["--db", db_url, "import", str(ACLED)])
    assert f"read {counts['read']} = inserted 0 + updated 0 + unchanged {counts['read']} + rejected 0" in again.output


def test_cli_import_abort_exits_with_the_errors(db_url: str, tmp_path: Path) -> None:
    path = native_file(tmp_path, ("date", "yesterday"))
    result = CliRunner().invoke(cli, ["--db", db_url, "import", str(path)])
    assert result.exit_code == InputError.exit_code
    assert "bad.csv:4: column date: 'yesterday' is not a date" in result.stderr
    assert "nothing was imported" in result.stderr and "Traceback" not in result.output


def test_native_best_is_manual_only_when_it_differs(engine: Engine, tmp_path: Path) -> None:
    reports = [{"source": {"url": "https://example.org/a", "published_on": "2018-07-14"}, "killed": 128},
               {"source": {"url": "https://example.org/b", "published_on": "2018-07-20"}, "killed": 149}]
    rows = [["DERIVED", "2018-07-13", "PAK", "149", json.dumps(reports)],
            ["CHOSEN", "2018-07-13", "PAK", "130", json.dumps(reports)]]
    imp(engine, write_rows(tmp_path / "n.csv", ["key", "date", "country", "killed_best", "reports"], rows))
    assert incident(engine, "DERIVED")["killed"]["best_chosen_by_analyst"] is False
    chosen = incident(engine, "CHOSEN")["killed"]
    assert chosen["best"] == 130 and chosen["best_chosen_by_analyst"] is True
