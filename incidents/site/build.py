"""`incidents site`: a static site of the database that opens from the file system with no network.

The site holds an index (the filters used, the date range, counts, the timeline, the group table, a search box), a
page per incident (its figures with the reports behind each, every report's excerpt, its history, merges), a page
per group and per province, a map, and the search index as JSON (search.json) and as a script (search.js: a page
opened from disk may not fetch a file). Every figure is read the way `show` and `summary` read it.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.analysis import summaries, timelines
from incidents.analysis.filters import Filters, filtered_incidents
from incidents.analysis.reads import history, incident_details, listing, revised, source_label
from incidents.gazetteer import outline_rings, province_rings, unit_name
from incidents.models import Incident, Location
from incidents.site.svg import AREA_PRECISIONS, POINT_PRECISIONS, map_svg, timeline_svg

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 500  # incidents on one page of a list: a page stays small whatever the database holds
MOST_ON_PAGE = 200  # a group's or a province's most recent incidents on its own page; the rest are in the lists
PRECISION_WORDS = {"day": "to the day", "month": "to the month only", "year": "to the year only"}


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")


def page_name(key: str) -> str:
    """The file name of an incident's page: its key when that is a plain file name (letters, digits, '.', '_',
    '-'), else the key made one, with a short digest of it so that two keys never share a page ('../notes' cannot
    write outside the site, 'KEY#1' still links)."""
    if SAFE_NAME.fullmatch(key) and ".." not in key:
        return key
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug(key)[:80]}-{digest}"


def slug(text: str) -> str:
    """A file name for a group or a province: its letters and digits without accents, lower case, joined by '-'
    ('Tehrik-i-Taliban Pakistan' -> tehrik-i-taliban-pakistan)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "unnamed"


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["figure"] = figure_text
    environment.filters["web_address"] = web_address
    environment.globals["page_name"] = page_name
    environment.globals["PRECISION_WORDS"] = PRECISION_WORDS
    return environment


def web_address(url: Any) -> bool:
    """Whether a source's address may be a link: http or https only, so a 'javascript:' address in the data is
    shown as text and never runs."""
    return isinstance(url, str) and re.match(r"https?://[^\s\"'<>]+$", url.strip(), re.IGNORECASE) is not None


def figure_text(figures: dict[str, Any] | None) -> str:
    """'60 (54-63)', '60', or 'unknown': a toll as the site prints it, its range when the reports differ."""
    if not figures or figures.get("best") is None:
        if figures and figures.get("low") is not None:
            return f"{figures['low']}-{figures['high']} (no best figure chosen)"
        return "unknown"
    low, high = figures.get("low"), figures.get("high")
    if low is not None and high is not None and (low, high) != (figures["best"], figures["best"]):
        return f"{figures['best']} ({low}-{high})"
    return str(figures["best"])


def _count(value: Any) -> int:
    """A sum for a chart: 0 when nothing is known (the chart says how many are unknown)."""
    return 0 if _missing(value) else int(value)


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, (list, tuple, dict, str)) and bool(pd.isna(value)))


def _periods(frame: Any) -> list[dict[str, Any]]:
    return [{"label": str(row.period.year), "incidents": _count(row.incidents),
             "killed_best": _count(row.killed_best), "killed_low": _count(row.killed_low),
             "killed_high": _count(row.killed_high), "unknown_killed": _count(row.unknown_killed)}
            for row in frame.itertuples()]


def _summary_rows(frame: Any) -> list[dict[str, Any]]:
    """A summary frame's rows as plain values: NA and NaN are None (unknown), numbers Python numbers, dates text."""
    def plain(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return list(value)
        if _missing(value):
            return None
        if hasattr(value, "item"):
            return value.item()
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    return [{name: plain(value) for name, value in row.items()} for row in frame.to_dict("records")]


def build(session: Session, out: Path, filters: Filters, progress: Callable[[int, int], None] | None = None,
          page_size: int = PAGE_SIZE, as_of: str | None = None) -> dict[str, Any]:
    """Write the site for the incidents `filters` select into the folder `out` (made if missing; pages already
    there are replaced). Returns what was written: counts and the largest page."""
    environment = _environment()
    out.mkdir(parents=True, exist_ok=True)
    for folder in ("incidents", "groups", "provinces", "lists", "static"):
        (out / folder).mkdir(exist_ok=True)
    for asset in (HERE / "static").iterdir():
        shutil.copyfile(asset, out / "static" / asset.name)
    written: list[Path] = []

    inside = out.resolve()

    def write(relative: str, template: str, **values: Any) -> None:
        path = out / relative
        if inside not in path.resolve().parents:  # page names are made safe; this is the last guard
            raise ValueError(f"a page outside the site: {relative}")
        root = "../" * relative.count("/")
        text = environment.get_template(template).render(root=root, **values)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    groups_frame = summaries.group_summary(session, filters)
    groups = _summary_rows(groups_frame)
    group_pages = _unique_pages("groups", [row["group"] for row in groups])
    locations = _locations(session, filters)
    rows_iter, total = listing(session, filters, limit=None)
    search: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    by_group: dict[str, list[dict[str, Any]]] = {}
    by_province: dict[str, list[dict[str, Any]]] = {}
    list_rows: list[dict[str, Any]] = []
    page = 0
    done = 0
    for batch in _batches(rows_iter, BATCH):
        stored = {incident.key: incident for incident in session.scalars(
            select(Incident).where(Incident.key.in_([row["key"] for row in batch])))}
        details = incident_details(session, list(stored.values()))
        with_history = revised(session, [incident.id for incident in stored.values()])
        for row in batch:
            done += 1
            page = _incident(write, row, details[row["key"]], history(session, row["key"])
                             if stored[row["key"]].id in with_history else [], locations.get(row["key"], {}),
                             group_pages, search, points, by_group, by_province, list_rows, page, page_size)
            if progress is not None:
                progress(done, total)
    if list_rows or page == 0:
        page += 1
        write(f"lists/incidents-{page}.html", "list.html", rows=list_rows, page=page, pages=None,
              title=f"Incidents, page {page}")
    pages = page
    (out / "lists" / "pages.js").write_text(f"window.INCIDENT_LIST_PAGES = {pages};\n", encoding="utf-8")
    return _summary_pages(session, out, filters, write, written, groups, group_pages, search, points, by_group,
                          by_province, total, pages, as_of)


BATCH = 500  # incidents read at a time


def _batches(rows: Any, size: int) -> Any:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _incident(write: Callable[..., None], row: dict[str, Any], detail: dict[str, Any], changes: list[Any],
              location: dict[str, Any], group_pages: dict[str, str], search: list[dict[str, Any]],
              points: list[dict[str, Any]], by_group: dict[str, list[dict[str, Any]]],
              by_province: dict[str, list[dict[str, Any]]], list_rows: list[dict[str, Any]], page: int,
              page_size: int) -> int:
    """Write one incident's page and note it in the index, the map, its groups' and its province's lists, and the
    list page; returns the number of list pages written so far."""
    href = f"incidents/{page_name(row['key'])}.html"
    perpetrators = [actor for actor in detail["actors"] if actor["role"] == "perpetrator"]
    write(href, "incident.html", incident=detail, location=location, changes=changes, group_pages=group_pages,
          perpetrators=perpetrators, others=[a for a in detail["actors"] if a["role"] != "perpetrator"],
          source_label=source_label, title=detail["title"] or detail["key"])
    entry = {"key": row["key"], "href": href, "title": detail["title"] or detail["key"], "date": row["date"],
             "precision": row["date_precision"], "place": row["place"], "admin1": row["admin1"],
             "admin2": row.get("admin2"), "groups": [p["actor"] for p in perpetrators],
             "killed": figure_text(detail["killed"]), "wounded": figure_text(detail["wounded"])}
    search.append(entry)
    list_rows.append(entry)
    for name in entry["groups"]:
        by_group.setdefault(name, []).append(entry)
    province = location.get("admin1_code")
    if province:
        by_province.setdefault(province, []).append(entry)
    if location.get("latitude") is not None and location.get("geo_precision") in POINT_PRECISIONS | \
            AREA_PRECISIONS:
        points.append({"key": row["key"], "href": href, "latitude": location["latitude"],
                       "longitude": location["longitude"], "precision": location["geo_precision"],
                       "date": row["date"], "place": row["place"], "killed": entry["killed"]})
    if len(list_rows) == page_size:
        page += 1
        write(f"lists/incidents-{page}.html", "list.html", rows=list_rows, page=page, pages=None,
              title=f"Incidents, page {page}")
        list_rows.clear()
    return page


def _summary_pages(session: Session, out: Path, filters: Filters, write: Callable[..., None], written: list[Path],
                   groups: list[dict[str, Any]], group_pages: dict[str, str], search: list[dict[str, Any]],
                   points: list[dict[str, Any]], by_group: dict[str, list[dict[str, Any]]],
                   by_province: dict[str, list[dict[str, Any]]], total: int, pages: int,
                   as_of: str | None = None) -> dict[str, Any]:
    """The index, the group, province and map pages, and the search and map data."""
    timeline = _periods(timelines.timeline(session, filters, freq="year"))
    bounds = (min((e["date"] for e in search), default=None), max((e["date"] for e in search), default=None))
    # every group's years and quiet spells in one query each, not one per group (a database has hundreds)
    per_group = timelines.timeline(session, filters, freq="year", by="actor")
    quiet = timelines.gaps(session, filters).groups
    for group in groups:
        group_timeline = _periods(per_group[per_group["group"] == group["group"]]) if not per_group.empty else []
        spells = _summary_rows(quiet[quiet["group"] == group["group"]]) if not quiet.empty else []
        incidents_of = by_group.get(group["group"], [])
        write(group_pages[group["group"]], "group.html", group=group, chart=timeline_svg(group_timeline),
              incidents=incidents_of[:MOST_ON_PAGE], more=len(incidents_of) - MOST_ON_PAGE, spells=spells,
              title=group["group"])
    provinces = _summary_rows(summaries.province_figures(session, filters))
    province_pages = {}
    for province in provinces:
        code = province.get("admin1_code")
        if not code:
            continue
        name = province.get("province") or unit_name(code) or code
        province_pages[code] = f"provinces/{page_name(code)}.html"
        incidents_of = by_province.get(code, [])
        write(province_pages[code], "province.html", province=province, name=name,
              incidents=incidents_of[:MOST_ON_PAGE], more=len(incidents_of) - MOST_ON_PAGE, title=name)
    write("map.html", "map.html", map=_map(points), drawn=len(points), total=total,
          not_drawn=total - len(points), title="Map")
    shown = _filters_text(filters)
    if as_of:
        shown = [text for text in shown if not text.startswith("none")] + [f"as known at the end of {as_of}"]
    write("index.html", "index.html", filters=shown, total=total, bounds=bounds,
          chart=timeline_svg(timeline), timeline=timeline, groups=groups, group_pages=group_pages,
          provinces=[p for p in provinces if p.get("admin1_code")], province_pages=province_pages, pages=pages,
          unknown_killed=sum(p["unknown_killed"] for p in timeline), title="Incidents")
    (out / "search.json").write_text(json.dumps(search, ensure_ascii=False), encoding="utf-8")
    (out / "search.js").write_text("window.INCIDENTS_SEARCH = " + json.dumps(search, ensure_ascii=False) + ";\n",
                                   encoding="utf-8")
    (out / "map-data.js").write_text("window.INCIDENTS_MAP = " + json.dumps(points) + ";\n", encoding="utf-8")
    largest = max(written, key=lambda path: path.stat().st_size)
    return {"folder": str(out), "incidents": total, "pages": len(written), "groups": len(groups),
            "provinces": len(province_pages), "list_pages": pages, "on_map": len(points),
            "largest_page": str(largest.relative_to(out)), "largest_page_bytes": largest.stat().st_size}


def _unique_pages(folder: str, names: list[str]) -> dict[str, str]:
    """A page per name, never two names on one page: a name with no letters of its own (داعش) or one that folds to
    another's slug gets a short digest of itself."""
    pages: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        stem = slug(name)
        if stem == "unnamed" or stem in taken or not stem.isascii():
            stem = f"{stem}-{hashlib.sha1(name.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"
        taken.add(stem)
        pages[name] = f"{folder}/{stem}.html"
    return pages


def _locations(session: Session, filters: Filters) -> dict[str, dict[str, Any]]:
    """Each selected incident's location with its codes and point, by key."""
    matching = filtered_incidents(session, filters).subquery()
    rows = session.execute(
        select(Incident.key, Location.admin1_code, Location.admin2_code, Location.latitude, Location.longitude,
               Location.geo_precision)
        .join(Location, Location.id == Incident.location_id)
        .where(Incident.id.in_(select(matching.c.id))))
    return {key: {"admin1_code": admin1, "admin2_code": admin2, "latitude": latitude, "longitude": longitude,
                  "geo_precision": precision} for key, admin1, admin2, latitude, longitude, precision in rows}


def _map(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The outlines around the incidents (a degree of margin), drawn as SVG; the points are drawn by map.js from
    map-data.js, so the page stays small however many there are."""
    if points:
        west = min(p["longitude"] for p in points) - 1
        east = max(p["longitude"] for p in points) + 1
        south = min(p["latitude"] for p in points) - 1
        north = max(p["latitude"] for p in points) + 1
    else:
        west, south, east, north = 60.0, 23.0, 78.0, 38.0  # Afghanistan and Pakistan
    box = (west, south, east, north)
    return {"svg": map_svg([], outline_rings(box), box, provinces=province_rings(box)), "box": box}


def _filters_text(filters: Filters) -> list[str]:
    shown = []
    for name, value in vars(filters).items():
        if value in (None, (), False) or name == "role":
            continue
        shown.append(f"{name.replace('_', ' ')}: {', '.join(value) if isinstance(value, tuple) else value}")
    return shown or ["none: every incident"]


def escape(text: Any) -> str:
    return html.escape(str(text))
