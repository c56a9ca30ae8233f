"""How results look on a terminal (rich tables and panels) and as JSON for scripts."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape as escape_markup
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from incidents.files import LazyList, write_json

# soft_wrap: messages are not hard-wrapped (a long URL stays copyable); tables still fit the terminal.
console = Console(soft_wrap=True)


errors = Console(stderr=True, soft_wrap=True)


# Control characters from the data (an ESC sequence in a title) are shown, not obeyed by the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: object) -> str:
    """Text with every control character but newline and tab written out as \\xNN."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", str(text))


def escape(text: object) -> str:
    """Text from the data, safe inside rich markup and on a terminal."""
    return escape_markup(visible(text))


def say(message: str) -> None:
    """A plain line that carries data (paths, keys, names): no markup is read in it, no control code obeyed."""
    console.print(visible(message), markup=False, highlight=False)


def error(message: str) -> None:
    errors.print("[bold red]Error:[/bold red] " + escape(message), highlight=False)


def note(message: str) -> None:
    """Something the answer leaves out or cannot say (a DataWarning), on stderr so that --json stays clean."""
    errors.print("[bold yellow]Note:[/bold yellow] " + escape(message), highlight=False)


def print_json(data: Any) -> None:
    # Plain stdout rather than rich, so scripts get exactly the JSON and nothing else; in pieces, so that a long
    # frame (frame_json) is never held whole as text.
    write_json(sys.stdout, data, indent=2)
    sys.stdout.write("\n")


def _range(low: int | None, best: int | None, high: int | None) -> str:
    if best is None and low is None:
        return "?"
    if low == high or low is None or high is None:
        return str(best if best is not None else low)
    return f"{best} ({low}-{high})" if best is not None else f"{low}-{high}"


def _perpetrators(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{p['actor']} ({p['attribution'] or 'unstated'})" for p in items) or "-"


def incident_table(rows: list[dict[str, Any]], total: int, title: str = "Incidents", asked: int = 0) -> None:
    """Incidents as a table; `asked` is the --limit given, when it was more than a table shows (MAX_TABLE_ROWS)."""
    table = Table(title=f"{title}: {total}" if total > len(rows) else title, show_lines=False)
    for name, style in (("key", "cyan"), ("date", ""), ("place", ""), ("perpetrators", "magenta"),
                        ("killed", "red"), ("wounded", ""), ("reports", "")):
        table.add_column(name, style=style, overflow="fold", no_wrap=name in {"key", "date"})
    for row in rows:
        place = ", ".join(p for p in (row["place"], row["admin1"]) if p) or (row["country"] or "")
        table.add_row(*map(escape, (
            row["key"], row["date"], place, _perpetrators(row["perpetrators"]),
            _range(row["killed_low"], row["killed_best"], row["killed_high"]),
            "?" if row["wounded_best"] is None else str(row["wounded_best"]), str(row["reports"]),
        )))
    console.print(table)
    if asked > len(rows) == MAX_TABLE_ROWS:
        note(f"The table shows the first {MAX_TABLE_ROWS:,} of {min(asked, total):,} rows; --json gives them all")
    elif total > len(rows):
        console.print(f"[dim]Showing {len(rows)} of {total}; use --limit to see more.[/dim]")
    elif not rows:
        console.print("[dim]No incident matches these filters.[/dim]")


def _withdrawn_words(withdrawn: dict[str, Any]) -> str:
    return (f"WITHDRAWN {withdrawn['at'][:10]}" + (f" by {withdrawn['by']}" if withdrawn["by"] else "")
            + (f": {withdrawn['why']}" if withdrawn["why"] else ""))


def incident_detail(detail: dict[str, Any]) -> None:
    console.print(f"[bold cyan]{escape(detail['key'])}[/bold cyan]  {escape(detail['title'] or '')}")
    if detail.get("withdrawn"):
        console.print(f"[bold red]{escape(_withdrawn_words(detail['withdrawn']))}[/bold red]. It is left out of "
                      f"every listing, count, view and export; `incidents restore {escape(detail['key'])}` brings "
                      "it back.", highlight=False)
    location = detail["location"] or {}
    place = ", ".join(str(location[k]) for k in ("place", "admin2", "admin1", "country") if location.get(k))
    coords = (
        f" ({location['latitude']}, {location['longitude']}; {location['geo_precision'] or 'precision unknown'})"
        if location.get("latitude") is not None else ""
    )
    killed, wounded = detail["killed"], detail["wounded"]
    facts = [
        ("Date", f"{detail['date']} (precision: {detail['date_precision']})"
                 + (f" to {detail['date_end']}" if detail["date_end"] else "")),
        ("Place", place + coords),
        ("Attack", " / ".join(str(x) for x in (detail["attack_type"], detail["weapon_type"]) if x)
                   + (" (suicide)" if detail["suicide"] else "")),
        ("Target", detail["target_type"] or "-"),
        ("Status", detail["status"]),
        ("Killed", _figures(killed)),
        ("Wounded", _figures(wounded)),
        ("Perpetrators killed", str(detail["perpetrators_killed"]) if detail["perpetrators_killed"] is not None
                                else "unknown"),
    ]
    if detail["origin"]:
        facts.append(("Origin", f"{detail['origin']['dataset']} {detail['origin']['id']}"))
    if detail.get("merged_into"):
        facts.append(("Merged into", f"{detail['merged_into']} (listings count it there; incidents unmerge "
                                     f"{detail['key']} undoes it)"))
    if detail.get("merged"):
        facts.append(("Merged here", "; ".join(m["key"] + (f" ({m['origin']})" if m["origin"] else "")
                                               for m in detail["merged"])))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in facts:
        grid.add_row(label, escape(value))
    console.print(grid)
    if detail["summary"]:
        console.print("\n" + escape(detail["summary"]))

    actors = Table(title="Actors", title_justify="left")
    for name in ("actor", "role", "attribution", "according to"):
        actors.add_column(name, overflow="fold")
    for item in detail["actors"]:
        name = item["actor"] + (f" (part of {item['parent']})" if item["parent"] else "")
        actors.add_row(*map(escape, (name, item["role"], item["attribution"] or "-", item["source"] or "-")))
    console.print(actors)

    reports = detail["reports"]
    preliminary = sum(1 for r in reports if r["preliminary"])
    withdrawn = sum(1 for r in reports if r.get("withdrawn"))
    console.print(
        f"\n[bold]Reports[/bold] ({len(reports)}"
        + (f"; {preliminary} preliminary, left out of the range" if preliminary else "")
        + (f"; {withdrawn} withdrawn, left out of the figures" if withdrawn else "") + ")"
    )
    for number, report in enumerate(reports, start=1):
        source = report["source"]
        label = " - ".join(x for x in (source["outlet"], source["title"]) if x)
        where = source["url"] or source["citation"] or f"{source['dataset']} record {source['record_id']}"
        if source.get("dataset_release"):
            where += f" (release {source['dataset_release']})"
        figures = [
            f"killed {_stated(report['killed'], report['killed_at_least'])}" if report.get("killed_low") is None
            else f"killed {report['killed_low']}-{report['killed_high']}",
            f"wounded {_stated(report['wounded'], report['wounded_at_least'])}",
        ]
        if report["perpetrator_stated"] or report["attribution"]:
            figures.append(f"{report['attribution'] or 'names'}: {report['perpetrator_stated'] or '?'}")
        flag = " [yellow](preliminary)[/yellow]" if report["preliminary"] else ""
        if report.get("withdrawn"):
            flag += f" [red]({escape(_withdrawn_words(report['withdrawn']))})[/red]"
        console.print(f"{number:>2}. [bold]{escape(label or where)}[/bold]  {report['reported_on'] or 'undated'}"
                      f"{flag}  [dim]source #{source['id']}[/dim]", highlight=False)
        if label:
            console.print("    " + escape(where), style="dim", highlight=False)
        console.print("    " + escape(" | ".join(figures)), highlight=False)
        if report["excerpt"]:
            checked = {True: " (found in the stored text)", False: " (NOT found in the stored text)"}.get(
                report.get("excerpt_verified"), " (no stored text to check it against)")
            console.print(escape(f'    "{report["excerpt"]}"{checked}'), style="italic", highlight=False)
        elif source.get("kind") != "dataset_record":
            console.print("    (no excerpt recorded)", style="dim", highlight=False)
        if report["note"]:
            console.print(escape(f"    note: {report['note']}"), style="dim", highlight=False)


def _stated(value: int | None, at_least: bool) -> str:
    if value is None:
        return "-"
    return f"at least {value}" if at_least else str(value)


def actor_table(actors: list[dict[str, Any]]) -> None:
    table = Table(title=f"Actor registry: {len(actors)} actors", show_lines=False)
    for name in ("name", "kind", "parent", "aliases", "incidents"):
        table.add_column(name, overflow="fold")
    for actor in actors:
        aliases = ", ".join(
            escape(a["alias"] + (f" [{a['dataset']} only]" if a["dataset"] else "")) for a in actor["aliases"]
        )
        table.add_row(*map(escape, (actor["name"], actor["kind"], actor["parent"] or "-")), aliases or "-",
                      str(actor["incidents"]))
    console.print(table)


@contextmanager
def byte_progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar over bytes read, on a terminal only (scripts and pipes get no bar)."""
    if not console.is_terminal:
        yield None
        return
    with Progress(TextColumn(escape(label)), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def count_progress(label: str, unit: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar over things done ('1,204 of 6,400 incidents'), on a terminal only."""
    if not console.is_terminal:
        yield None
        return
    counted = TextColumn(f"{{task.completed:,}} of {{task.total:,}} {unit}")
    with Progress(TextColumn(escape(label)), BarColumn(), counted, TimeRemainingColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def import_summary(result: dict[str, Any]) -> None:
    table = Table(title=f"Import of {escape(result['file'])} ({result['format']})", title_justify="left")
    names = (("read", "withdrawn", "unchanged", "rejected") if result["format"] == "acled-deletions"
             else ("read", "inserted", "updated", "unchanged", "rejected"))
    for name in names:
        table.add_column("nothing to do" if name == "unchanged" and "withdrawn" in names else name, justify="right")
    table.add_row(*(str(result[name]) for name in names))
    console.print(table)
    for note in result["notes"]:
        console.print(f"Note: {escape(note)}")
    created = result["created_actors"]
    if created:
        shown = ", ".join(created[:20]) + (f", and {len(created) - 20} more" if len(created) > 20 else "")
        console.print(f"{len(created)} new actor(s) created; check for near-duplicates with `incidents actors`: "
                      + escape(shown))
    for name, close in result.get("actor_suggestions", {}).items():
        console.print(f"  {escape(name)!r} may be: {escape(', '.join(close))} "
                      f"(if so: incidents actors merge {escape(repr(close[0]))} {escape(repr(name))})", highlight=False)
    for error in result["errors"][:20]:
        console.print(f"[yellow]rejected[/yellow] {escape(error)}", highlight=False)
    if len(result["errors"]) > 20:
        console.print(f"... and {result['rejected'] - 20} more rejected rows")
    state = "dry run: nothing was written" if result["dry_run"] else (
        "committed" if result["committed"] else "nothing was written")
    if result.get("diff") is not None:
        diff_table(result["diff"], title="What this import would change")
    release_lines(result)
    if result["format"] == "acled-deletions":
        console.print(f"read {result['read']} = withdrawn {result['withdrawn']} + nothing to do "
                      f"{result['unchanged']} + rejected {result['rejected']} ({state})")
        return
    console.print(
        f"read {result['read']} = inserted {result['inserted']} + updated {result['updated']} + "
        f"unchanged {result['unchanged']} + rejected {result['rejected']} ({state})"
    )


def release_lines(result: dict[str, Any]) -> None:
    """An import's release: its label, what a full release withdrew, what came back, and the conflicts."""
    if result.get("release"):
        console.print(f"Release: {escape(result['release'])}")
    scope = result.get("scope")
    if scope:
        first, last = scope["years"]
        years = str(first) if first == last else f"{first}-{last}"
        console.print(f"Full release for {', '.join(scope['countries'])} {years}: {result['withdrawn']} record(s) it "
                      "no longer holds withdrawn (kept with their history; `incidents restore KEY` brings one back)")
    elif result.get("withdrawn") and result["format"] == "acled-deletions":
        console.print(f"Withdrawn: {result['withdrawn']} record(s) ACLED deleted")
    if result.get("restored"):
        console.print(f"Back in this release: {result['restored']} record(s) an earlier release had withdrawn, "
                      "restored")
    found = result.get("conflicts") or []
    if found:
        console.print(f"[yellow]{len(found)} conflict(s)[/yellow]: the release changes fields an analyst changed; "
                      "the analyst's values stay. Settle them with `incidents conflicts settle KEY FIELD "
                      "--keep|--take`:")
        conflict_table(found, shown=20)


def conflict_table(rows: list[dict[str, Any]], shown: int | None = None) -> None:
    if not rows:
        console.print("No open conflicts.")
        return
    table = Table(title=None if shown else f"Open conflicts: {len(rows)}", title_justify="left")
    for name in ("key", "field", "analyst", "dataset was", "dataset now"):
        table.add_column(name, overflow="fold")
    for row in rows[:shown]:
        table.add_row(*(escape(_cell(row[name])) for name in ("key", "field", "analyst", "dataset_old",
                                                               "dataset_new")))
    console.print(table)
    if shown and len(rows) > shown:
        console.print(f"... and {len(rows) - shown} more (`incidents conflicts` lists them all)")


def release_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("No dataset imported yet (`incidents import FILE --release LABEL`).")
        return
    table = Table(title="Dataset imports, oldest first", title_justify="left")
    columns = ["dataset", "release", "import", "imported", "file", "scope", "read", "inserted", "updated",
               "withdrawn", "restored", "conflicts"]
    for name in columns:
        table.add_column(name, overflow="fold", justify="right" if name in columns[6:] or name == "import" else "left")
    for row in rows:
        scope = row["scope"]
        scope_text = (f"full: {', '.join(scope['countries'])} {scope['years'][0]}-{scope['years'][1]}"
                      if scope else ("full" if row["full_release"] else "-"))
        table.add_row(escape(row["dataset"]), escape(row["release"] or "-"), str(row["import_id"]),
                      _cell(row["imported_at"].date() if row["imported_at"] else None),
                      escape(Path(row["file"]).name), escape(scope_text),
                      *(str(row[name]) for name in columns[6:]))
    console.print(table)


def diff_table(result: dict[str, Any], title: str | None = None, shown: int = 200) -> None:
    """A diff: counts, then the records added, withdrawn and restored, each change, and the conflicts."""
    counts = result["counts"]
    heading = title or f"{result['dataset']}: {result.get('from')} -> {result.get('to')}"
    console.print(escape(heading) + ": " + ", ".join(f"{counts[name]} {name}" for name in
                                                     ("added", "changed", "withdrawn", "restored", "conflicts")))
    table = Table(show_header=True, title_justify="left")
    for name in ("change", "key", "origin id", "field", "old", "new"):
        table.add_column(name, overflow="fold")
    lines = 0
    for kind in ("added", "withdrawn", "restored"):
        for record in result[kind]:
            if lines < shown:
                table.add_row(kind, escape(record["key"]), escape(record["origin_id"] or "-"), "", "", "")
            lines += 1
    for record in result["changed"]:
        for change in record["changes"]:
            if lines < shown:
                table.add_row("changed", escape(record["key"]), escape(record["origin_id"] or "-"),
                              escape(change["field"]), escape(_cell(change["old"])), escape(_cell(change["new"])))
            lines += 1
    for conflict in result["conflicts"]:
        if lines < shown:
            table.add_row("conflict", escape(conflict["key"]), "", escape(conflict["field"]),
                          escape(_cell(conflict["dataset_old"])),
                          escape(_cell(conflict["dataset_new"])) + f" (analyst: {escape(_cell(conflict['analyst']))})")
        lines += 1
    if lines:
        console.print(table)
    if lines > shown:
        console.print(f"... {lines - shown} more lines: `incidents diff ... --format csv` lists every one")


def _cell(value: Any) -> str:
    """A table cell: the plain value (analysis.sql.plain) as text; unknown is '-', a list joined by ', '."""
    from incidents.analysis.sql import plain  # pandas and SQLAlchemy: loaded when a table is drawn, not for an error

    value = plain(value)
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "-"
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


# A terminal table longer than this shows its first rows and says where the rest is: drawing a million rows would
# take minutes and gigabytes, and nobody reads them on a screen.
MAX_TABLE_ROWS = 10_000


def frame_table(frame: Any, title: str, columns: list[str] | None = None, rows: int | None = None) -> None:
    """A pandas DataFrame as a rich table (the columns given, else all); at most MAX_TABLE_ROWS rows, with a note
    saying how many there are (`rows`, when `frame` is already their head) and that --json gives them all."""
    columns = columns or list(frame.columns)
    rows = len(frame) if rows is None else rows
    if rows > MAX_TABLE_ROWS:
        note(f"The table shows the first {MAX_TABLE_ROWS:,} of {rows:,} rows; --json gives them all")
        frame = frame.head(MAX_TABLE_ROWS)
    table = Table(title=escape(title), title_justify="left")
    for name in columns:
        numeric = str(frame[name].dtype).lower().startswith(("int", "float"))
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*(escape(_cell(value)) for value in row))
    console.print(table)


def as_of_note(as_of: str | None) -> None:
    """Say so when an answer is about the past (--as-of)."""
    if as_of:
        console.print(f"[bold]As known at the end of {escape(as_of)}[/bold] (reports by publication date; later "
                      "edits and merges undone)")


def period_label(value: Any, freq: str) -> str:
    """A period by its frequency: 2023, 2023-Q3, 2023-07, or the first day of a week or a day."""
    if freq == "year":
        return str(value.year)
    if freq == "quarter":
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    if freq == "month":
        return str(value.strftime("%Y-%m"))
    return str(value.strftime("%Y-%m-%d"))


def timeline_table(frame: Any, freq: str, by: str | None, as_of: str | None) -> None:
    """A timeline, then the incidents too coarsely dated to place in its periods."""
    shown = frame.head(MAX_TABLE_ROWS).copy()
    shown["period"] = [period_label(value, freq) for value in shown["period"]]
    as_of_note(as_of)
    frame_table(shown, f"Timeline by {freq}" + (f", per {by}" if by else ""), rows=len(frame))
    for precision, figures in frame.attrs["unplaced"].items():
        killed = "unknown" if figures["killed_best"] is None else figures["killed_best"]
        console.print(
            f"Not placed: {figures['incidents']} incident(s) known only to the {precision} "
            f"({killed} killed); a {freq} timeline cannot place them without inventing a date."
        )
    unknown = [f"{int(frame[name].sum())} with {what} unknown" for name, what in
               (("unknown_killed", "the killed"), ("unknown_wounded", "the wounded")) if frame[name].sum()]
    if unknown:
        console.print(f"Tolls sum the known figures; of these incidents {' and '.join(unknown)} "
                      "(the unknown_* columns; '-' where every toll in a period is unknown).")


SUMMARY_COLUMNS = ["group", "incidents", "killed", "wounded", "killed_per_incident", "first_attack", "last_attack",
                   "days_since_last", "claimed_share", "top_provinces", "year", "year_incidents",
                   "change_vs_previous"]


def _toll(best: Any, low: Any, high: Any, unknown: Any) -> str:
    """'1234 (1100-1300), 3 unknown': a summed toll with its range and how many incidents it could not count."""
    text = "-" if best is None or best != best else str(best)
    if low is not None and high is not None and low == low and high == high and (low, high) != (best, best):
        text += f" ({low}-{high})"
    return text + (f", {unknown} unknown" if unknown else "")


def summary_table(frame: Any, as_of: str | None) -> None:
    """Per group; killed and wounded with their ranges and the incidents whose toll is unknown, and the last
    attack known only to the month or year beside the last dated day."""
    from incidents.analysis.sql import plain

    shown = frame.copy()
    shown["killed"] = [_toll(*(plain(v) for v in values)) for values in
                       zip(frame["killed_best"], frame["killed_low"], frame["killed_high"], frame["unknown_killed"],
                           strict=True)]
    shown["wounded"] = [_toll(*(plain(v) for v in values)) for values in
                        zip(frame["wounded_best"], frame["wounded_low"], frame["wounded_high"],
                            frame["unknown_wounded"], strict=True)]
    as_of_note(as_of)
    frame_table(shown, "Groups", SUMMARY_COLUMNS)
    console.print("first_attack, last_attack and days_since_last count day-precision attacks only.")
    coarse_notes(frame)


def coarse_notes(frame: Any) -> None:
    """One line per group whose last attack may be one known only to the month or year."""
    from incidents.analysis.sql import plain

    for group, cell in zip(frame["group"], frame["last_coarse_attack"], strict=True):
        coarse = plain(cell)  # pandas may hold a missing text as NaN
        if coarse:
            known = "month" if len(coarse) == 7 else "year"
            console.print(f"{escape(str(group))}: last attack {coarse}, known to the {known} (a later date than "
                          "last_attack may be; not counted in the days)")


def gaps_table(groups: Any, as_of: str | None) -> None:
    """Per group: the longest spells without an attack ('2018-07-13 to 2018-11-23 (133 days)'), the current one."""
    shown = groups.copy()
    shown["longest_spells"] = [
        [f"{s['after']:%Y-%m-%d} to {s['before']:%Y-%m-%d} ({s['days']} days)" for s in spells]
        for spells in shown["longest_spells"]
    ]
    as_of_note(as_of)
    frame_table(shown, f"Spells without an attack (as of {groups.attrs.get('as_of')})",
                ["group", "incidents", "first_attack", "last_attack", "current_spell_days", "last_coarse_attack",
                 "longest_spells", "quiet_years", "active_years"])
    console.print("Spells count day-precision attacks only. A year is quiet under half the group's median incidents "
                  "a year, active over twice it.")
    coarse_notes(groups)
    from incidents.analysis.sql import plain

    for group, cell in zip(groups["group"], groups["baseline"], strict=True):
        baseline = plain(cell)  # pandas may hold a missing text as NaN
        if baseline:
            console.print(f"{escape(str(group))}: no year is flagged: {escape(baseline)}.")


def history_table(rows: list[dict[str, Any]], key: str) -> None:
    """Every recorded change: when, what, old and new, who, why, which import."""
    if not rows:
        console.print(f"No recorded changes to {escape(key)}.")
        return
    columns = ["when", "table", "field", "old", "new", "by", "why", "import"]
    table = Table(title=escape(f"History of {key}"), title_justify="left")
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(escape(_cell(row[name])) for name in columns))
    console.print(table)


def frame_json(frame: Any) -> list[dict[str, Any]]:
    """A DataFrame as JSON-ready rows of plain values (dates print as YYYY-MM-DD, as in `list` and `show`), made
    as print_json writes them (a LazyList)."""
    from incidents.analysis.sql import plain

    columns = list(frame.columns)
    return LazyList({name: plain(value) for name, value in zip(columns, row, strict=True)}
                    for row in frame.itertuples(index=False))


def source_table(rows: list[dict[str, Any]], total: int) -> None:
    if not rows:
        console.print("No source matches.")
        return
    table = Table(title=f"Sources: {total}", title_justify="left")
    for name in ("id", "source", "outlet", "published", "reports", "text"):
        table.add_column(name, justify="right" if name in {"id", "reports"} else "left", overflow="fold")
    for row in rows:
        where = row["url"] or row["citation"] or f"{row['dataset']} record {row['record_id']}"
        stored = f"stored ({row['full_text_sha256'][:12]})" if row["full_text_sha256"] else "-"
        table.add_row(str(row["id"]), escape(where), escape(row["outlet"] or "-"), row["published_on"] or "-",
                      str(row["reports"]), stored)
    console.print(table)
    if total > len(rows):
        console.print(f"[dim]Showing {len(rows)} of {total}; use --limit or --search.[/dim]")


def duplicate_table(pairs: list[dict[str, Any]], asked: int = 0) -> None:
    """Candidate pairs as a table; `asked` is the --limit given, when it was more than a table shows."""
    if not pairs:
        console.print("No candidate pairs.")
        return
    if asked > len(pairs) == MAX_TABLE_ROWS:
        note(f"The table shows the best {MAX_TABLE_ROWS:,} pairs; --json gives up to --limit {asked:,}")
    table = Table(title="Candidate duplicates, best first")
    for column in ("score", "incident", "incident", "days", "km", "shared perpetrators", "killed"):
        table.add_column(column, justify="right" if column in {"score", "days", "km"} else "left",
                         no_wrap=column in {"incident", "killed"})
    for pair in pairs:
        km = "-" if pair["km_apart"] is None else f"{pair['km_apart']:.1f}"
        killed = f"{_cell(pair['killed_a'])} / {_cell(pair['killed_b'])}"
        days = f"in {pair['coarse_date']}" if pair.get("coarse_date") else str(pair["days_apart"])
        table.add_row(f"{pair['score']:.2f}", escape(pair["a"]), escape(pair["b"]), days, km,
                      escape(", ".join(pair["shared_perpetrators"]) or "-"), killed)
    console.print(table)
    console.print("Compare with `incidents show KEY`; fold one into the other with `incidents merge KEEP OTHER`.")


def _figures(figures: dict[str, Any]) -> str:
    """'best 63 (analyst's choice; per Business Recorder 2023-08-03), range 54 (per PTI) - 63 (per ...)'."""
    if figures["best"] is None and figures["low"] is None:
        return "unknown"
    sources = figures.get("according_to") or {}

    def per(which: str) -> str:
        names = sources.get(which) or []
        return "per " + ", ".join(names) if names else "no settled report gives it"

    chosen = "analyst's choice; " if figures["best_chosen_by_analyst"] else ""
    text = f"best {figures['best']} ({chosen}{per('best')})"
    if figures["low"] == figures["high"]:
        return text + f", range {figures['low']}-{figures['high']}"
    return text + f", range {figures['low']} ({per('low')}) - {figures['high']} ({per('high')})"


def proposal_table(proposals: list[dict[str, Any]]) -> None:
    """What `extract` found: one row per proposed attack, with the stored incident it may be a report of."""
    table = Table(title=f"Attacks the article reports: {len(proposals)}")
    for column in ("#", "date", "place", "killed", "wounded", "type / target", "perpetrators", "report of"):
        table.add_column(column)
    for number, item in enumerate(proposals, start=1):
        perpetrators = "; ".join(
            f"{p['name']} ({p['attribution']}{', from context' if p['from_context'] else ''})"
            for p in item["perpetrators"]) or "-"
        matches = item["matches"]
        match = f"{matches[0]['key']} ({matches[0]['score']})" if matches else "new"
        if len(matches) > 1:
            match += f" + {len(matches) - 1} more"
        killed = "?" if item["killed"] is None else f"{'at least ' if item['killed_at_least'] else ''}{item['killed']}"
        table.add_row(str(number), escape(item["date"] or "?"),
                      escape(", ".join(str(p) for p in (item["place"], item["country"]) if p) or "?"), killed,
                      "?" if item["wounded"] is None else str(item["wounded"]),
                      escape(" / ".join(str(p) for p in (item["attack_type"], item["target"]) if p) or "-"),
                      escape(perpetrators), escape(match))
    console.print(table)
