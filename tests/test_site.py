"""incidents site: a static site that opens from disk with no network, whose figures are those of `show` and
`summary`. The expected figures and excerpts are read here through the API, page by page, not from the builder."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from incidents import api
from incidents.cli import cli
from incidents.errors import IncidentsError, UsageError
from incidents.models import Incident, Location

from .conftest import FIXTURES

UCDP = FIXTURES / "ucdp_ged_pakistan_2015_2021.csv"
MOST_BYTES = 300_000  # no page over 300 KB


@pytest.fixture
def url(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, UCDP)
    return db_url


def _expected_figure(figures: dict) -> str:
    best, low, high = figures["best"], figures["low"], figures["high"]
    if best is None:
        return f"{low}-{high} (no best figure chosen)" if low is not None else "unknown"
    return f"{best} ({low}-{high})" if low is not None and (low, high) != (best, best) else str(best)


def _text(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">(.*?)</d[dt]>', page, re.DOTALL)
    assert found, element_id
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_every_page_shows_the_figures_and_reports_of_show_and_summary(url: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = api.site(url, site)
    rows, total = api.incidents(url, limit=None)
    assert result["incidents"] == total == len(rows) > 700
    for row in rows:
        page = (site / "incidents" / f"{row['key']}.html").read_text(encoding="utf-8")
        text = html.unescape(page)
        shown = api.show(url, row["key"])
        assert _text(page, "killed").startswith(_expected_figure(shown["killed"])), row["key"]
        assert _text(page, "wounded").startswith(_expected_figure(shown["wounded"])), row["key"]
        for report in shown["reports"]:  # every report, with its excerpt as the source gives it
            if report["excerpt"]:
                assert report["excerpt"] in text, row["key"]
        for actor in shown["actors"]:
            if actor["role"] == "perpetrator":
                assert actor["actor"] in text
    groups = api.summary(url)
    for group in groups.to_dict("records"):
        name = re.sub(r"[^a-z0-9]+", "-", group["group"].lower()).strip("-")
        page = (site / "groups" / f"{name}.html").read_text(encoding="utf-8")
        assert _text(page, "group-incidents") == str(group["incidents"])
        assert _text(page, "group-killed").startswith(f"{group['killed_best']} (range {group['killed_low']}-"
                                                        f"{group['killed_high']})")
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f'<strong id="total">{total}</strong>' in index
    pages = list(site.rglob("*.html"))
    assert len(pages) == result["pages"] and max(p.stat().st_size for p in pages) < MOST_BYTES
    for page_path in pages:  # nothing from the network: every script and style sheet is in the folder
        text = page_path.read_text(encoding="utf-8")
        assert not re.search(r"<(?:script|link|img)[^>]+(?:src|href)=\"(?:https?:)?//", text), page_path
        for target in re.findall(r'(?:src|href)="([^"#:]+)"', text):  # and every link inside leads somewhere
            assert (page_path.parent / target).resolve().exists() or target.startswith("incidents-"), \
                (page_path, target)


def test_the_search_index_finds_bajaur_by_khar_and_the_map_has_the_seeds(url: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    api.site(url, site)
    index = json.loads((site / "search.json").read_text(encoding="utf-8"))
    seeds = [row["key"] for row in api.incidents(url, limit=None, place="Khar")[0]]
    assert seeds and any(entry["key"] in seeds and "khar" in json.dumps(entry).lower() for entry in index)
    points = json.loads((site / "map-data.js").read_text(encoding="utf-8").split("=", 1)[1].rstrip(";\n"))
    with Session(create_engine(url)) as session:  # the incidents with a point, straight from the tables
        located = set(session.scalars(select(Incident.key).join(Location, Location.id == Incident.location_id)
                                      .where(Location.latitude.is_not(None))))
    assert {p["key"] for p in points} <= located and len(points) > 700 and set(seeds) <= {p["key"] for p in points}
    assert (site / "search.js").read_text(encoding="utf-8").startswith("window.INCIDENTS_SEARCH = ")
    # the province outlines the map draws: those of the shipped boundary file that reach into the incidents' box
    west = min(p["longitude"] for p in points) - 1
    east = max(p["longitude"] for p in points) + 1
    south = min(p["latitude"] for p in points) - 1
    north = max(p["latitude"] for p in points) + 1
    boundaries = json.loads((FIXTURES / "osm_admin1_pak_afg.json").read_text(encoding="utf-8"))
    expected = set()
    for feature in boundaries["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        if any(west <= x <= east and south <= y <= north for polygon in polygons for x, y in polygon[0]):
            expected.add(feature["properties"]["iso_3166_2"])
    map_page = (site / "map.html").read_text(encoding="utf-8")
    assert set(re.findall(r'data-province="([A-Z]{2}-[A-Z]+)"', map_page)) == expected and "PK-BA" in expected
    assert "OpenStreetMap contributors" in map_page


def test_a_folder_of_other_files_is_refused_and_a_failed_build_leaves_the_site_as_it_was(
        db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes", encoding="utf-8")
    with pytest.raises(UsageError, match="not a site"):
        api.site(db_url, mine)
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "my notes"
    site = tmp_path / "site"
    api.site(db_url, site)
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    with pytest.raises(IncidentsError):
        api.site(db_url, site, admin1="Atlantis")  # a filter that names nothing fails while building
    assert {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no half-built site left
    api.site(db_url, site, since="2023")  # a site written before is replaced whole
    assert len(list((site / "incidents").iterdir())) == 1
    with pytest.raises(UsageError, match="is a file"):
        api.site(db_url, mine / "notes.txt")


def test_a_year_whose_tolls_are_all_unknown_is_charted_and_said_so(db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.add(db_url, key="TOLL-UNKNOWN", date="2010-05", country="PAK", perpetrators=["ISKP=suspected"],
            citation="site test: a synthetic incident whose toll no report gives")
    site = tmp_path / "site"
    api.site(db_url, site)
    page = (site / "incidents" / "TOLL-UNKNOWN.html").read_text(encoding="utf-8")
    assert "unknown" in _text(page, "killed") and "known to the month only" in html.unescape(page)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "1 incidents whose toll no report gives" in index


def test_data_never_runs_as_script_nor_becomes_an_active_link(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy import update

    from incidents.models import Source

    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    with Session(create_engine(db_url)) as session, session.begin():  # as a careless import could store them
        first = session.scalars(select(Source.id).order_by(Source.id)).first()
        session.execute(update(Source).where(Source.id == first).values(
            url="javascript:alert(1)", title='<script>alert("title")</script>', outlet='"><img src=x onerror=alert(1)>'))
    site = tmp_path / "site"
    api.site(db_url, site)
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'href="javascript' not in text.lower(), page
        assert "<script>alert" not in text and "<img src=x" not in text, page
    shown = [p for p in site.rglob("incidents/*.html") if "alert(1)" in html.unescape(p.read_text(encoding="utf-8"))]
    assert shown  # the address is still shown, as text


def test_odd_keys_and_group_names_get_pages_of_their_own_inside_the_site(db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml"])
    for number, (key, group) in enumerate([("../../notes", "\u062f\u0627\u0639\u0634"), ("KEY#1", "\u65e5\u672c"),
                                           ("a/b", "Bench Group")]):
        api.add(db_url, key=key, date=f"2020-01-0{number + 1}", country="PAK", perpetrators=[f"{group}=claimed"],
                citation=f"site test: a synthetic incident {number}")
    notes = tmp_path / "notes.html"
    notes.write_text("my notes", encoding="utf-8")
    site = tmp_path / "out" / "site"
    site.parent.mkdir()
    api.site(db_url, site)
    assert notes.read_text(encoding="utf-8") == "my notes"  # nothing written outside the site
    assert sorted(p.name for p in tmp_path.rglob("*.html") if site not in p.parents) == ["notes.html"]
    assert len(list((site / "incidents").iterdir())) == 3 and len(list((site / "groups").iterdir())) == 3
    index = json.loads((site / "search.json").read_text(encoding="utf-8"))
    assert {entry["key"] for entry in index} == {"../../notes", "KEY#1", "a/b"}
    assert all((site / entry["href"]).is_file() and site in (site / entry["href"]).resolve().parents
               for entry in index)


def test_a_build_killed_midway_is_swept_later_and_odd_folders_are_refused(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    stale = tmp_path / ".incidents-site-killed1"  # what kill -9 mid-build leaves beside the site
    (stale / "incidents").mkdir(parents=True)
    old = time.time() - 7200
    os.utime(stale, (old, old))
    fresh = tmp_path / ".incidents-site-running"  # another build at work right now: left alone
    fresh.mkdir()
    api.site(db_url, tmp_path / "site")
    assert not stale.exists() and fresh.exists()
    assert (tmp_path / "site").stat().st_mode & 0o044  # readable by others, as a shared site must be
    monkeypatch.chdir(tmp_path / "site")
    for out in (".", "", "/"):
        with pytest.raises((UsageError, IncidentsError)):
            api.site(db_url, out)
    assert (tmp_path / "site" / "index.html").exists()


def test_the_command_writes_the_site_and_says_where(db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["--db", db_url, "site", "--out", str(out), "--actor", "ISKP"])
    assert result.exit_code == 0, result.output
    assert "Wrote the site of 3 incidents" in result.stdout and (out / "index.html").exists()
    assert "actor: ISKP" in (out / "index.html").read_text(encoding="utf-8")


# -------------------------------------------------------------------------------- in a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NO_BROWSER = "Chromium and ChromeDriver are not installed (apt-get install chromium chromium-driver)"


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("INCIDENTS_REQUIRE_BROWSER"):
            pytest.fail(NO_BROWSER)
        pytest.skip(NO_BROWSER)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400",
                     "--disable-dev-shm-usage", "--allow-file-access-from-files"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _errors(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.browser
def test_the_site_works_offline_in_chromium(url: str, tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    site = tmp_path / "site"
    api.site(url, site)
    shots = Path(os.environ.get("INCIDENTS_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    browser.get((site / "index.html").as_uri())
    assert _errors(browser) == []
    box = browser.find_element(By.ID, "search")
    box.send_keys("Khar")
    found = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#results a")]
    bajaur = [row["key"] for row in api.incidents(url, limit=None, place="Khar")[0]]
    assert any(key in href for key in bajaur for href in found), found
    browser.save_screenshot(str(shots / "index.png"))
    headers = browser.find_elements(By.CSS_SELECTOR, "#groups thead th")
    headers[1].click()  # sorting by incidents puts the smallest first
    counts = [int(cell.text) for cell in browser.find_elements(By.CSS_SELECTOR, "#groups tbody td:nth-child(2)")]
    assert counts == sorted(counts)
    browser.get((site / "incidents" / f"{bajaur[0]}.html").as_uri())
    assert _errors(browser) == [] and browser.find_elements(By.CSS_SELECTOR, "#reports li")
    browser.save_screenshot(str(shots / "incident.png"))
    browser.get((site / "map.html").as_uri())
    assert _errors(browser) == []
    drawn = {c.get_attribute("data-key") for c in browser.find_elements(By.CSS_SELECTOR, "#map circle")}
    assert set(bajaur) <= drawn and len(drawn) > 700
    browser.save_screenshot(str(shots / "map.png"))
    browser.get((site / "lists" / "incidents-2.html").as_uri())
    assert _errors(browser) == [] and not browser.find_element(By.ID, "next").is_displayed()  # the last page
    assert (shots / "index.png").stat().st_size > 10_000
