"""The commands: each parses its options, calls one function in incidents.api, and renders the result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from incidents.cli.app import LazyModule, cli
from incidents.limits import limit

if TYPE_CHECKING:
    from incidents import api
    from incidents.cli import render as output
else:  # loaded by the first command that uses them, so that --help stays fast
    api = LazyModule("incidents.api")
    output = LazyModule("incidents.cli.render")


def escape(text: str) -> str:
    """Text from the data, safe inside rich markup."""
    return output.escape(text)

ATTRIBUTIONS = "claimed, attributed, suspected or denied"


def _db(ctx: click.Context) -> str | None:
    value: str | None = ctx.find_root().params.get("db")
    return value


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")


as_of_option = click.option(
    "--as-of", metavar="YYYY-MM-DD",
    help="Answer with what was known at the end of that day: reports by their publication date, later edits "
         "undone (see docs/curation.md).")


def filter_options(command: Any) -> Any:
    """The filters every listing command shares."""
    for option in reversed([
        click.option("--actor", help="Perpetrator, by any name or alias (IS-K finds ISKP)."),
        click.option("--subgroups", "include_subgroups", is_flag=True,
                     help="With --actor: include the actor's sub-groups (TTP with its factions)."),
        click.option("--country", help="Country: ISO code (PAK) or English name (Pakistan)."),
        click.option("--since", help="From this date: YYYY, YYYY-MM or YYYY-MM-DD."),
        click.option("--until", help="Up to this date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD (2018 = to 31 Dec)."),
        click.option("--admin1", help="Province or state by any spelling or ISO 3166-2 code (Baluchistan, "
                                      "'Balochistan province' and PK-BA are one)."),
        click.option("--admin2", help="District, with or without 'district' or 'agency' (Bajaur finds UCDP's "
                                      "'Bajaur agency')."),
        click.option("--place", help="Place (town, village) as the source named it, case aside."),
        click.option("--near", metavar="LAT,LON|PLACE",
                     help="Incidents within --km of this point: 'LAT,LON' or a town or district the gazetteer knows "
                          "(Quetta). Incidents without coordinates are left out."),
        click.option("--km", type=float, help="With --near: the radius in km (default 25)."),
        click.option("--as-today", is_flag=True,
                     help="With --admin1: count units since merged into it (FATA, until 2018, under Khyber "
                          "Pakhtunkhwa)."),
        click.option("--attribution", multiple=True,
                     type=click.Choice(["claimed", "attributed", "suspected", "denied"]),
                     help="Keep incidents whose perpetrator link has this attribution. Repeatable."),
        click.option("--status", multiple=True, type=click.Choice(["confirmed", "provisional", "disputed"]),
                     help="Keep incidents with this status. Repeatable."),
        click.option("--attack-type", help="Attack type, as stored (case-insensitive)."),
        as_of_option,
    ]):
        command = option(command)
    return command


@cli.command()
@click.option("--empty-registry", is_flag=True,
              help="Do not install the bundled actor registry (fixtures/actors.yaml) in a new database. (A later "
                   "plain init on a database still empty installs it.)")
@click.pass_context
def init(ctx: click.Context, empty_registry: bool) -> None:
    """Create the database (if needed) and migrate it to the newest schema. A new database gets the bundled actor
    registry (ISKP, TTP, BLA ... with the GTD, UCDP and ACLED spellings), so imports resolve their groups."""
    output.say(api.init(_db(ctx), registry=not empty_registry))


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.pass_context
def load(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Load YAML fixture FILES (actors, sources, incidents with their reports). All or nothing."""
    result = api.load(_db(ctx), list(files))
    counts = result.counts
    output.console.print(
        f"Loaded {len(result.files)} file(s): {result.actors} actors; {result.incidents_read} incidents read = "
        f"{counts['inserted']} inserted + {counts['updated']} updated + {counts['unchanged']} unchanged."
    )
    if result.created_actors:
        output.say(f"New actors created: {', '.join(result.created_actors)}")
    for name, entry in result.merged_actors:
        output.console.print(f"Merged actor {escape(name)!r} into the registry's {escape(entry)!r} "
                             "(recorded in the history)")


@cli.command(name="import")
@click.argument("file", type=click.Path())
@click.option("--format", "format", type=click.Choice(["native", "gtd", "ucdp", "acled", "acled-deletions"]),
              help="The file's format; detected from the header when omitted. acled-deletions: ACLED's list of "
                   "deleted events (event_id_cnty, deleted_timestamp), which withdraws them.")
@click.option("--dry-run", is_flag=True, help="Validate everything and report the counts; write nothing.")
@click.option("--on-error", type=click.Choice(["abort", "skip"]), default="abort", show_default=True,
              help="abort: any bad row means nothing is imported. skip: import the valid rows, reject the rest.")
@click.option("--rejects", type=click.Path(), help="Write every rejected row, with its reason, here.")
@click.option("--actors", "actor_policy", type=click.Choice(["create", "strict"]), default="create",
              show_default=True, help="Unknown actor names: create them (and list them), or reject the row.")
@click.option("--country", help="Country for files without a country column (GTD-derived copies).")
@click.option("--release", metavar="LABEL",
              help="The dataset release the file is ('GED 25.1', 'ACLED 2025-11-30', 'GTD 2021'): recorded on the "
                   "run and on each record's dataset source; `incidents releases` lists them, `incidents diff` "
                   "compares them.")
@click.option("--full-release", is_flag=True,
              help="The file is the dataset's whole release for its countries and years: stored records of that "
                   "scope it no longer holds are withdrawn (kept with their history; `incidents restore KEY`).")
@json_option
@click.pass_context
def import_(ctx: click.Context, file: str, as_json: bool, **options: Any) -> None:
    """Import FILE: GTD (CSV or XLSX), UCDP GED, ACLED, ACLED's deletion lists, or the native CSV. Safe to repeat;
    .gz files work. A newer release of a dataset updates its records but never a field an analyst changed: those
    are listed as conflicts (`incidents conflicts`). With --dry-run, a dataset's import prints what it would change."""
    with output.byte_progress(f"Importing {file}") as progress:
        result = api.import_file(_db(ctx), file, progress=None if as_json else progress, **options)
    if as_json:
        output.print_json(result.as_dict())
    else:
        output.import_summary(result.as_dict())


@cli.command()
@click.option("--dataset", type=click.Choice(["gtd", "ucdp", "acled"]), help="Only this dataset's imports.")
@json_option
@click.pass_context
def releases(ctx: click.Context, dataset: str | None, as_json: bool) -> None:
    """The imports of each dataset, oldest first: release label, file, when, scope, and what each did."""
    rows = api.releases(_db(ctx), dataset)
    if as_json:
        output.print_json(rows)
    else:
        output.release_table(rows)


@cli.command()
@click.argument("first")
@click.argument("second", default="now")
@click.option("--dataset", type=click.Choice(["gtd", "ucdp", "acled"]),
              help="The dataset, when two datasets have a release of that name.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]),
              help="Default: table, or the --out file's (.json, .csv). csv: one line per change (change, key, "
                   "origin_id, field, old, new), for a spreadsheet.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--out", type=click.Path(), help="Write to this file instead of the terminal (json, csv).")
@click.pass_context
def diff(ctx: click.Context, first: str, second: str, dataset: str | None, fmt: str | None, as_json: bool,
         out: str | None) -> None:
    """What changed from release FIRST to release SECOND (labels as `incidents releases` lists them), or to now
    (SECOND left out, or 'now': analysts' edits since FIRST included): records added, changed field by field
    (old and new), withdrawn and restored, and the conflicts with analysts' edits."""
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt} say two things; give one")
    suffix = Path(out).suffix.lower().lstrip(".") if out else ""
    if fmt in ("json", "csv") and suffix in ("json", "csv") and suffix != fmt:
        raise click.UsageError(f"--format {fmt} and the file name {Path(out or '').name} say two things; give one")
    if as_json:
        fmt = "json"
    elif fmt is None:
        fmt = suffix if suffix in ("json", "csv") else "table"
    if out and fmt == "table":
        raise click.UsageError("--out writes json or csv: name a .json or .csv file, or add --format json|csv")
    result = api.diff(_db(ctx), first, second, dataset)
    if fmt == "table":
        output.diff_table(result)
    else:
        written = api.write_diff(result, fmt, out, _db(ctx))
        if out:
            output.say(f"Wrote the diff of {first} and {second} ({written} lines) to {out}.")
        else:
            click.echo(written, nl=False)


@cli.group(invoke_without_command=True)
@click.option("--dataset", type=click.Choice(["gtd", "ucdp", "acled"]), help="Only this dataset's conflicts.")
@json_option
@click.pass_context
def conflicts(ctx: click.Context, dataset: str | None, as_json: bool) -> None:
    """Fields an analyst changed that a later release of the dataset changed too, not yet settled: the analyst's
    value stands until someone settles it (`incidents conflicts settle KEY FIELD --keep|--take`)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = api.conflicts(_db(ctx), dataset)
    if as_json:
        output.print_json(rows)
    else:
        output.conflict_table(rows)


@conflicts.command(name="settle")
@click.argument("key")
@click.argument("field")
@click.option("--keep", is_flag=True, help="Keep the analyst's value (later releases leave it alone).")
@click.option("--take", is_flag=True,
              help="Take the release's value; the field is the dataset's again, and later releases update it.")
@click.option("--by", "who", help="Who settles it (default: your user name).")
@click.option("--why", help="Why, for the history.")
@click.pass_context
def conflicts_settle(ctx: click.Context, key: str, field: str, keep: bool, take: bool, who: str | None,
                     why: str | None) -> None:
    """Settle the open conflict on FIELD of incident KEY: --keep the analyst's value or --take the release's."""
    if keep == take:
        raise click.UsageError("say how, once: --keep (the analyst's value) or --take (the release's)")
    how = "keep" if keep else "take"
    result = api.settle_conflict(_db(ctx), key, field, how, who, why)
    shown = "unknown" if result.get("shown") is None else repr(result["shown"])
    taken = f"; {result['field']} is now {shown}" if how == "take" else ""
    output.say(f"Settled {result['settled']} conflict(s) on {key} {result['field']}: "
               f"{'took the release' if how == 'take' else 'kept the analyst'}'s value{taken}.")


@cli.command()
@click.argument("what", type=click.Choice(["incidents", "events", "timeline", "groups", "provinces", "tables"]))
@filter_options
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json", "geojson", "parquet"]),
              help="Default: the --out file's (.csv, .xlsx, .json, .geojson, .parquet), else csv. geojson: incidents "
                   "and events as points on a map. parquet: typed columns for DuckDB, pandas, Spark.")
@click.option("--excel", is_flag=True, help="CSV: add a byte-order mark so Excel reads it as UTF-8.")
@click.option("--freq", type=click.Choice(["day", "week", "month", "quarter", "year"]), default="month",
              show_default=True, help="timeline: the period.")
@click.option("--by", type=click.Choice(["actor", "country", "admin1", "admin2", "attack_type"]),
              help="timeline: series.")
@click.option("--rollup", is_flag=True, help="timeline, groups: count sub-groups under their parent.")
@click.option("--out", required=True, type=click.Path(), help="File to write (tables: a folder).")
@click.pass_context
def export(ctx: click.Context, what: str, out: str, **options: Any) -> None:
    """Export WHAT (incidents, events, timeline, groups, provinces) as CSV, XLSX or JSON, with a datapackage.json
    describing it, or incidents and events as GeoJSON points. `export incidents` writes the native format that
    `incidents import` reads back losslessly; `export provinces` the figures per province keyed by ISO 3166-2
    code, for a map to join. `export tables --out DIR` writes every table's live rows as Parquet, one file per
    table (incidents, locations, actors, incident_actors, reports, sources), for DuckDB, pandas or Spark."""
    count = api.export(_db(ctx), what, out, **options)
    if what == "tables":
        output.say(f"Wrote the tables of {count} incidents to {out} as Parquet, one file per table, described in "
                   f"{Path(out) / 'datapackage.json'}.")
        return
    if isinstance(count, api.Written):
        output.say(f"Wrote {count.features} {what} as points to {out} (GeoJSON).")
        if count.without_coordinates:
            shown = ", ".join(count.without_coordinates[:10])
            more = f" and {len(count.without_coordinates) - 10} more" if len(count.without_coordinates) > 10 else ""
            output.say(f"{len(count.without_coordinates)} incidents have no coordinates and are not on the map: "
                       f"{shown}{more} (all listed in the file's without_coordinates).")
        return
    output.say(f"Wrote {count} {what} rows to {out}, described in datapackage.json beside it.")


@cli.command()
@click.argument("what", type=click.Choice(["timeline", "groups"]))
@filter_options
@click.option("--freq", type=click.Choice(["day", "week", "month", "quarter", "year"]), default="year",
              show_default=True, help="timeline: the period.")
@click.option("--by", type=click.Choice(["actor", "country", "admin1", "admin2", "attack_type"]), default="actor",
              show_default=True, help="timeline: one line per value.")
@click.option("--rollup", is_flag=True, help="Count sub-groups under their top-level parent.")
@click.option("--out", required=True, type=click.Path(), help="A .png or .svg file.")
@click.pass_context
def chart(ctx: click.Context, what: str, out: str, **options: Any) -> None:
    """Draw WHAT: a per-group timeline of incidents and deaths, or a per-group bar chart."""
    api.chart(_db(ctx), what, out, **options)
    output.say(f"Wrote the {what} chart to {out}.")


@cli.command()
@filter_options
@click.option("--freq", type=click.Choice(["day", "week", "month", "quarter", "year"]), default="month",
              show_default=True)
@click.option("--by", type=click.Choice(["actor", "country", "admin1", "admin2", "attack_type"]),
              help="One series per value.")
@click.option("--rollup", is_flag=True, help="With --by actor: count sub-groups under their top-level parent.")
@click.option("--role", type=click.Choice(["perpetrator", "party", "target"]), default="perpetrator",
              show_default=True, help="With --by actor: which links count.")
@click.option("--rolling", type=click.IntRange(min=2, max=10_000), help="Add sums over this many periods.")
@click.option("--cumulative", is_flag=True, help="Add running totals.")
@json_option
@click.pass_context
def timeline(ctx: click.Context, freq: str, by: str | None, rollup: bool, role: str, rolling: int | None,
             cumulative: bool, as_json: bool, **filters: Any) -> None:
    """Incidents, killed and wounded per period, zero-filled over the range."""
    frame = api.timeline(_db(ctx), freq=freq, by=by, rollup=rollup, role=role, rolling=rolling,
                         cumulative=cumulative, **filters)
    if as_json:
        output.print_json({"freq": freq, "by": by, "unplaced": frame.attrs["unplaced"],
                           "periods": output.frame_json(frame)})
    else:
        output.timeline_table(frame, freq, by, filters.get("as_of"))


@cli.command()
@filter_options
@click.option("--rollup", is_flag=True, help="Count sub-groups under their top-level parent.")
@click.option("--role", type=click.Choice(["perpetrator", "party", "target"]), default="perpetrator",
              show_default=True, help="Which links count.")
@click.option("--year", type=click.IntRange(1, 9999),
              help="The year compared with the one before (default: the year of --as-of, else of --until, else "
                   "this year; the same for every group).")
@json_option
@click.pass_context
def summary(ctx: click.Context, rollup: bool, role: str, year: int | None, as_json: bool, **filters: Any) -> None:
    """Per-group summary: incidents, tolls, first and last attack, attribution shares, top provinces."""
    frame = api.summary(_db(ctx), rollup=rollup, role=role, year=year, **filters)
    if as_json:
        output.print_json(output.frame_json(frame))
        return
    output.summary_table(frame, filters.get("as_of"))


@cli.command()
@filter_options
@click.option("--rollup", is_flag=True, help="Count sub-groups under their top-level parent.")
@click.option("--role", type=click.Choice(["perpetrator", "party", "target"]), default="perpetrator",
              show_default=True)
@json_option
@click.pass_context
def gaps(ctx: click.Context, rollup: bool, role: str, as_json: bool, **filters: Any) -> None:
    """Quiet spells per group, and years unusually quiet or active against the group's own median."""
    result = api.gaps(_db(ctx), rollup=rollup, role=role, **filters)
    if as_json:
        output.print_json({"groups": output.frame_json(result.groups), "years": output.frame_json(result.years)})
        return
    output.gaps_table(result.groups, filters.get("as_of"))


@cli.command(name="list")
@filter_options
@click.option("--limit", type=click.IntRange(min=1, max=10**9), default=100, show_default=True,
              help="Show at most this many.")
@json_option
@click.pass_context
def list_(ctx: click.Context, limit: int, as_json: bool, **filters: Any) -> None:
    """List incidents, newest first, with perpetrators and tolls."""
    if as_json:  # every row asked for, written as read
        with api.incident_listing(_db(ctx), limit=limit, **filters) as (listed, matching):
            output.print_json({"total": matching, "incidents": output.LazyList(listed)})
        return
    rows, total = api.incidents(_db(ctx), limit=min(limit, output.MAX_TABLE_ROWS), **filters)
    output.as_of_note(filters.get("as_of"))
    output.incident_table(rows, total, asked=limit)


@cli.command()
@click.argument("key")
@json_option
@as_of_option
@click.pass_context
def show(ctx: click.Context, key: str, as_json: bool, as_of: str | None) -> None:
    """Show one incident in full: every field, its actors, and every report with its source and excerpt."""
    detail = api.show(_db(ctx), key, as_of=as_of)
    if as_json:
        output.print_json(detail)
    else:
        if as_of:
            output.console.print(f"[bold]As known at the end of {detail['as_of']}[/bold] (reports by publication "
                                 "date; later edits undone; see `incidents history`)")
        output.incident_detail(detail)


@cli.command()
@click.option("--date", help="As the source gives it: 2023, 2023-07, 2023-07-30, '30 July 2023', 'July 2023'; sets "
                             "the date precision. Required (but with --from).")
@click.option("--country", help="ISO code or English name. Required (but with --from).")
@click.option("--from", "from_file", type=click.Path(),
              help="A CSV or YAML of several records, one per row, its columns named as these options (source_url, "
                   "date, country, killed, perpetrators ...): each recorded as this command would, all or none.")
@click.option("--source-url", help="URL of the article that reports it (this or --citation is required).")
@click.option("--citation", help="Citation text for a source without a URL.")
@click.option("--source", help="A stored source by its id (`incidents sources`, `show`), instead of a URL or citation.")
@click.option("--new-source", is_flag=True, help="The citation is near a stored source's but names another source.")
@click.option("--outlet", help="The source's outlet (Dawn, Reuters, ...).")
@click.option("--source-title", help="The source's headline.")
@click.option("--published", help="The source's publication date, YYYY-MM-DD.")
@click.option("--excerpt", help="The sentence in the source that gives the figures.")
@click.option("--text-file", help="A UTF-8 file of the article's text, stored with the source; the excerpt must "
                                  "occur in it.")
@click.option("--key", help="Stable key; default COUNTRY-DATE-PLACE.")
@click.option("--new", is_flag=True, help="Record it even though it may be an incident already recorded (same source, "
                                          "or an overlapping date at the same district or place).")
@click.option("--title")
@click.option("--date-end", help="Last day, for an attack that lasted days (YYYY-MM-DD).")
@click.option("--admin1", help="Province or state.")
@click.option("--admin2", help="District.")
@click.option("--place", help="Town, village or site.")
@click.option("--lat", "latitude", help="Latitude, -90 to 90.")
@click.option("--lon", "longitude", help="Longitude, -180 to 180.")
@click.option("--geo-precision", help="exact, place, district, province or country.")
@click.option("--attack-type")
@click.option("--target-type")
@click.option("--weapon-type")
@click.option("--suicide/--no-suicide", default=None, help="Whether it was a suicide attack.")
@click.option("--summary")
@click.option("--status", default="confirmed", show_default=True, help="confirmed, provisional or disputed.")
@click.option("--perpetrator", "perpetrators", multiple=True, metavar="NAME[=ATTRIBUTION]",
              help=f"A perpetrator by any alias, optionally with how sure: {ATTRIBUTIONS}. Repeatable.")
@click.option("--killed", help="Killed, as the source states it: 60, sixty, 'at least 60', 60+, 50-60.")
@click.option("--wounded", help="Wounded, as the source states it: 40, forty, 'at least 40', 40+, 30-40.")
@click.option("--at-least", "killed_at_least", is_flag=True, help="The source says 'at least' N killed.")
@click.option("--perpetrators-killed", help="Attackers killed, where the source counts them apart.")
@click.option("--preliminary", is_flag=True, help="A running tally from the first hours.")
@click.option("--actors", "actor_policy", type=click.Choice(["create", "strict"]), default="create",
              show_default=True, help="Unknown perpetrator names: create them, or refuse.")
@click.pass_context
def add(ctx: click.Context, from_file: str | None, **options: Any) -> None:
    """Record a new incident and the source that reports it.

    Before it records anything it looks for the incident this may be (the same source on that date; an
    overlapping date at the same district or place, not blamed on other groups only); if it finds one it stops
    and names it, with the `report add` command that adds this source's account to it. --new records it anyway."""
    if from_file:
        given = [name for name, value in options.items() if value not in (None, False, (), "confirmed", "create")]
        if given:
            raise click.UsageError(f"--from takes the records from the file; give --{given[0].replace('_', '-')} "
                                   "in its rows instead")
        batch = api.add_many(_db(ctx), from_file, actor_policy=options["actor_policy"])
        output.say(f"Recorded {len(batch['added'])} incidents from {from_file}"
                   + (f": {', '.join(batch['added'])}" if batch["added"] else "")
                   + (f"; added reports to {', '.join(batch['reported'])}" if batch["reported"] else "")
                   + (f"; {len(batch['already'])} rows were recorded before ({', '.join(batch['already'])}), "
                      "nothing added for them" if batch["already"] else "") + ".")
        if batch["created_actors"]:
            output.say(f"New actors created: {', '.join(batch['created_actors'])}")
        return
    result = api.add(_db(ctx), **options)
    output.console.print(f"Added incident [cyan]{escape(result['key'])}[/cyan].")
    if result["created_actors"]:
        output.say(f"New actors created: {', '.join(result['created_actors'])}")


@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def actors(ctx: click.Context, as_json: bool) -> None:
    """The actor registry: every actor with its kind, parent group and aliases. Subcommands edit it."""
    if ctx.invoked_subcommand is not None:
        return
    registry = api.actors(_db(ctx))
    if as_json:
        output.print_json(registry)
    else:
        output.actor_table(registry)


who_option = click.option("--by", "who", help="Who makes the change (default: your user name).")
why_option = click.option("--why", help="Why, for the history.")


@actors.command(name="add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["group", "state", "civilians", "unidentified", "other"]), default="group",
              show_default=True)
@click.option("--parent", help="The group it belongs to (for roll-ups).")
@click.option("--alias", "aliases", multiple=True, help="Another spelling. Repeatable.")
@who_option
@why_option
@click.pass_context
def actors_add(ctx: click.Context, name: str, **options: Any) -> None:
    """Add actor NAME to the registry."""
    output.console.print(f"Added {escape(api.actor_add(_db(ctx), name, **options))}.")


@actors.command(name="alias")
@click.argument("name")
@click.argument("alias")
@click.option("--dataset", type=click.Choice(["gtd", "ucdp", "acled"]), help="The spelling means NAME only there.")
@who_option
@why_option
@click.pass_context
def actors_alias(ctx: click.Context, name: str, alias: str, dataset: str | None, **options: Any) -> None:
    """Add ALIAS as another spelling of actor NAME."""
    actor = api.actor_alias(_db(ctx), name, alias, dataset or "", **options)
    output.console.print(f"{escape(alias)} now names {escape(actor)}.")


@actors.command(name="rename")
@click.argument("name")
@click.argument("new_name")
@who_option
@why_option
@click.pass_context
def actors_rename(ctx: click.Context, name: str, new_name: str, **options: Any) -> None:
    """Rename actor NAME to NEW_NAME; the old name stays an alias."""
    output.console.print(f"Renamed {escape(name)} to {escape(api.actor_rename(_db(ctx), name, new_name, **options))}.")


@actors.command(name="set-parent")
@click.argument("name")
@click.argument("parent", required=False)
@who_option
@why_option
@click.pass_context
def actors_set_parent(ctx: click.Context, name: str, parent: str | None, **options: Any) -> None:
    """Put actor NAME under PARENT for roll-ups (no PARENT: at the top)."""
    api.actor_set_parent(_db(ctx), name, parent, **options)
    output.console.print(f"{escape(name)} is now " + (f"under {escape(parent)}." if parent else "at the top."))


@actors.command(name="merge")
@click.argument("keep")
@click.argument("other")
@who_option
@why_option
@click.pass_context
def actors_merge(ctx: click.Context, keep: str, other: str, **options: Any) -> None:
    """Fold actor OTHER into KEEP: OTHER's name and aliases become KEEP's, its incident links and sub-groups
    move to KEEP, and the merge is recorded. Where an incident names both, the stronger attribution stays."""
    result = api.actor_merge(_db(ctx), keep, other, **options)
    output.console.print(
        f"Merged {escape(other)} into {escape(result['kept'])}: {result['aliases']} spellings, "
        f"{result['links_moved']} incident links moved, {result['links_joined']} joined with {escape(keep)}'s own, "
        f"{result['subgroups']} sub-groups.")


@cli.command()
@click.option("--fixtures", "fixtures_dir", type=click.Path(file_okay=False), help="Folder of the fixtures.")
@click.option("--exports", "exports_dir", type=click.Path(file_okay=False), default="exports", show_default=True,
              help="Folder for the example exports and chart.")
@click.option("--no-exports", is_flag=True, help="Write no exports or chart.")
@click.pass_context
def demo(ctx: click.Context, fixtures_dir: str | None, exports_dir: str, no_exports: bool) -> None:
    """The quick start: build the database from the bundled fixtures, show what is in it, and write example
    exports (CSV, XLSX, datapackage.json), a chart and the browsable site (exports/site/index.html)."""
    result = api.demo(_db(ctx), fixtures_dir, None if no_exports else exports_dir)
    counts = result["counts"]
    output.say(result["init"])
    loaded = result["load"].counts
    output.console.print(
        f"Loaded the fixtures: {loaded['inserted']} inserted, {loaded['updated']} updated, "
        f"{loaded['unchanged']} unchanged. The database holds {counts['incidents']} incidents, "
        f"{counts['reports']} reports from {counts['sources']} sources, and {counts['actors']} actors."
    )
    output.incident_table(result["incidents"], result["total"])
    output.frame_table(result["groups"], "Per-group summary",
                       ["group", "incidents", "killed_best", "killed_low", "killed_high", "first_attack",
                        "last_attack", "claimed_share"])
    if result["written"]:
        output.console.print("Wrote " + escape(", ".join(result["written"])))
    output.console.print(
        "Next: [bold]incidents show PAK-2023-07-30-KHAR[/bold] for every report behind a toll, "
        "[bold]incidents timeline --actor IS-K --freq year[/bold], [bold]incidents actors[/bold]."
    )


@cli.group()
def report() -> None:
    """Sources' accounts of an incident."""


@report.command(name="add")
@click.argument("key")
@click.option("--source-url", help="URL of the article (this or --citation is required).")
@click.option("--citation", help="Citation text for a source without a URL.")
@click.option("--source", help="A stored source by its id (`incidents sources`, `show`), instead of a URL or citation.")
@click.option("--new-source", is_flag=True, help="The citation is near a stored source's but names another source.")
@click.option("--outlet")
@click.option("--title", "source_title", help="The source's headline.")
@click.option("--published", help="The source's publication date, YYYY-MM-DD.")
@click.option("--killed", help="Killed, as the source states it: 60, sixty, 'at least 60', 60+, 50-60.")
@click.option("--wounded", help="Wounded, as the source states it: 40, forty, 'at least 40', 40+, 30-40.")
@click.option("--at-least", is_flag=True, help="The source says 'at least' N killed.")
@click.option("--perpetrators-killed", help="Attackers killed, where the source counts them apart.")
@click.option("--preliminary", is_flag=True, help="A running tally from the first hours; left out of the range.")
@click.option("--perpetrator", help="Who the source says did it, as it says it.")
@click.option("--attribution", type=click.Choice(["claimed", "attributed", "suspected", "denied"]))
@click.option("--excerpt", help="The sentence in the source that gives the figures.")
@click.option("--text-file", help="A UTF-8 file of the article's text, stored with the source; the excerpt must "
                                  "occur in it.")
@click.option("--by", "who", help="Who records this (default: your user name).")
@click.option("--why", help="Why, for the history.")
@click.pass_context
def report_add(ctx: click.Context, key: str, **options: Any) -> None:
    """Add one source's account of incident KEY; its killed and wounded ranges are recomputed at once."""
    result = api.report_add(_db(ctx), key, **options)
    killed = result["killed"]
    done = "Added the report to" if result["added"] else "Nothing added: this source's report is recorded already for"
    output.console.print(f"{done} {escape(key)}. Killed now: best {killed['best']}, "
                         f"range {killed['low']}-{killed['high']}.")


@cli.command(name="set")
@click.argument("key")
@click.argument("field")
@click.argument("value")
@click.option("--why", required=True, help="Why the value changes (kept in the history).")
@click.option("--by", "who", help="Who changes it (default: your user name).")
@click.pass_context
def set_(ctx: click.Context, key: str, field: str, value: str, why: str, who: str | None) -> None:
    """Change FIELD of incident KEY to VALUE: title, summary, status, attack_type, target_type, weapon_type,
    suicide, perpetrators_killed, killed_best or wounded_best ('auto' hands these back to the reports); date
    (2023, 2023-07 or 2023-07-30) and date_end; the place: country, admin1, admin2, place, coordinates
    ('34.6, 71.5', or '' for none) and geo_precision."""
    result = api.set_field(_db(ctx), key, field, value, who=who, why=why)
    output.say(f"{key}: {field} {result['old']} -> {result['new']}.")


@cli.command()
@click.argument("key")
@click.option("--why", required=True, help="Why it is withdrawn (kept in the history, shown by `show`).")
@who_option
@click.pass_context
def delete(ctx: click.Context, key: str, why: str, who: str | None) -> None:
    """Withdraw incident KEY (never an attack, or not one to count): it leaves every listing, count, view and
    export, and stays in the database with its reports and history; `show` marks it withdrawn, `incidents
    restore KEY` brings it back. A re-import of its dataset does not bring it back."""
    api.delete(_db(ctx), key, why=why, who=who)
    output.say(f"Withdrew {key}; `incidents restore {key}` brings it back.")


@cli.command()
@click.argument("key")
@why_option
@who_option
@click.pass_context
def restore(ctx: click.Context, key: str, why: str | None, who: str | None) -> None:
    """Bring back incident KEY, withdrawn by `incidents delete`: counted again, as before."""
    api.restore_incident(_db(ctx), key, why=why, who=who)
    output.say(f"Restored {key}.")


@report.command(name="delete")
@click.argument("key")
@click.argument("source")
@click.option("--why", required=True, help="Why the report is withdrawn (kept in the history).")
@who_option
@click.pass_context
def report_delete(ctx: click.Context, key: str, source: str, why: str, who: str | None) -> None:
    """Withdraw the report of incident KEY from SOURCE (its id as `show` gives it, its URL or its citation): kept
    and shown, left out of the figures, which are recomputed at once."""
    result = api.report_delete(_db(ctx), key, source, why=why, who=who)
    killed = result["killed"]
    output.say(f"Withdrew the report of {key} from source #{result['source_id']}. Killed now: best {killed['best']}, "
               f"range {killed['low']}-{killed['high']}.")


@report.command(name="restore")
@click.argument("key")
@click.argument("source")
@why_option
@who_option
@click.pass_context
def report_restore(ctx: click.Context, key: str, source: str, why: str | None, who: str | None) -> None:
    """Bring back the report of incident KEY from SOURCE, withdrawn by `incidents report delete`."""
    result = api.report_restore(_db(ctx), key, source, why=why, who=who)
    killed = result["killed"]
    output.say(f"Restored the report of {key} from source #{result['source_id']}. Killed now: best "
               f"{killed['best']}, range {killed['low']}-{killed['high']}.")


@cli.group()
def perpetrators() -> None:
    """Add, change or remove an incident's perpetrator groups, each with its attribution and source."""


source_option = click.option("--source", help="The source that gives it: an id (`incidents sources`), a URL or a "
                                              "citation.")


@perpetrators.command(name="add")
@click.argument("key")
@click.argument("group")
@click.option("--attribution", type=click.Choice(["claimed", "attributed", "suspected", "denied"]),
              help="How sure: the group claimed it, others attributed it, it is suspected, or it denied it.")
@click.option("--new-group", is_flag=True, help="GROUP is in no registry entry: add it as a new group.")
@source_option
@who_option
@why_option
@click.pass_context
def perpetrators_add(ctx: click.Context, key: str, group: str, **options: Any) -> None:
    """Name GROUP (by any alias) a perpetrator of incident KEY."""
    result = api.perpetrator_add(_db(ctx), key, group, **options)
    output.say(f"{key}: perpetrator {result['perpetrator']}.")
    if result["created_actors"]:
        output.say(f"New group in the registry: {', '.join(result['created_actors'])}.")


@perpetrators.command(name="set")
@click.argument("key")
@click.argument("group")
@click.option("--attribution", type=click.Choice(["claimed", "attributed", "suspected", "denied"]))
@source_option
@who_option
@why_option
@click.pass_context
def perpetrators_set(ctx: click.Context, key: str, group: str, **options: Any) -> None:
    """Change the attribution and/or source of perpetrator GROUP of incident KEY."""
    result = api.perpetrator_set(_db(ctx), key, group, **options)
    output.say(f"{key}: perpetrator {result['perpetrator']}.")


@perpetrators.command(name="remove")
@click.argument("key")
@click.argument("group")
@click.option("--why", required=True, help="Why GROUP is not a perpetrator (kept in the history).")
@who_option
@click.pass_context
def perpetrators_remove(ctx: click.Context, key: str, group: str, why: str, who: str | None) -> None:
    """Remove GROUP from the perpetrators of incident KEY; the history keeps it, and `--as-of` an earlier day
    shows it."""
    result = api.perpetrator_remove(_db(ctx), key, group, who=who, why=why)
    output.say(f"{key}: removed {result['removed']}.")


@cli.command()
@click.option("--days", type=click.IntRange(min=0, max=366), default=3, show_default=True,
              help="At most this many days apart.")
@click.option("--km", type=click.FloatRange(min=0, max=1000, min_open=True), default=25.0, show_default=True,
              help="At most this far apart, where both have coordinates.")
@click.option("--limit", type=click.IntRange(min=1, max=10**9), default=20, show_default=True,
              help="Show the best N pairs.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.0, help="Leave out pairs scoring less.")
@json_option
@click.pass_context
def duplicates(ctx: click.Context, days: int, km: float, limit: int, min_score: float, as_json: bool) -> None:
    """Pairs of records that may be one attack reported twice (GTD, UCDP, news), best first.

    Scored 0-1 on date distance, place (coordinates, district), shared perpetrator (sub-groups as their parent)
    and toll. Review a pair with `incidents show`, then `incidents merge KEEP OTHER`."""
    pairs = api.duplicates(_db(ctx), days=days, km=km, limit=limit if as_json else min(limit, output.MAX_TABLE_ROWS),
                           min_score=min_score)
    if as_json:
        output.print_json(pairs)
    else:
        output.duplicate_table(pairs, asked=limit)


@cli.command()
@click.argument("keep")
@click.argument("other")
@who_option
@why_option
@click.pass_context
def merge(ctx: click.Context, keep: str, other: str, who: str | None, why: str | None) -> None:
    """Fold incident OTHER into KEEP: its reports, actor links and sources move, KEEP's figures are recomputed,
    and OTHER is left out of every listing and count from now on. Recorded; `incidents unmerge OTHER` undoes it."""
    result = api.merge(_db(ctx), keep, other, who=who, why=why)
    killed = result["killed"]
    output.console.print(
        f"Merged {escape(other)} into {escape(keep)}: {result['reports_moved']} reports and {result['links_moved']} "
        f"actor links moved ({result['reports_left']} stay with {escape(other)}: the same source or actor as "
        f"{escape(keep)} already has). Killed now: best {killed['best']}, range {killed['low']}-{killed['high']}.")


@cli.command()
@click.argument("key")
@who_option
@why_option
@click.pass_context
def unmerge(ctx: click.Context, key: str, who: str | None, why: str | None) -> None:
    """Undo the merge of incident KEY into another: everything that moved goes back, figures too."""
    result = api.unmerge(_db(ctx), key, who=who, why=why)
    output.console.print(f"{escape(key)} stands apart from {escape(result['kept'])} again: "
                         f"{result['reports_moved_back']} reports and {result['links_moved_back']} actor links back.")


@cli.group(invoke_without_command=True)
@click.option("--search", help="Keep sources whose URL, citation, outlet or title holds this (any case).")
@click.option("--limit", type=click.IntRange(min=1, max=10**9), default=100, show_default=True,
              help="Show at most this many.")
@json_option
@click.pass_context
def sources(ctx: click.Context, search: str | None, limit: int, as_json: bool) -> None:
    """The stored sources, most reported first: reports each, and whether the article's text is stored.
    `incidents sources merge KEEP OTHER` folds one article stored twice into one."""
    if ctx.invoked_subcommand is not None:
        return
    rows, total = api.sources(_db(ctx), search=search, limit=limit if as_json else min(limit, output.MAX_TABLE_ROWS))
    if as_json:
        output.print_json({"total": total, "sources": rows})
    else:
        output.source_table(rows, total)


@sources.command(name="merge")
@click.argument("keep", type=int)
@click.argument("other", type=int)
@click.option("--why", required=True, help="Why they are one source (kept in the history).")
@who_option
@click.pass_context
def sources_merge(ctx: click.Context, keep: int, other: int, why: str, who: str | None) -> None:
    """Fold source OTHER into KEEP (ids, as `incidents sources` lists them): one article stored twice. OTHER's
    reports and actor links move to KEEP, which takes the particulars it lacks; OTHER is deleted."""
    result = api.source_merge(_db(ctx), keep, other, why=why, who=who)
    output.say(f"Merged source #{other} into #{keep}: {result['reports_moved']} reports and {result['links_moved']} "
               "actor links moved" + (f"; #{keep} took its {', '.join(result['took'])}" if result["took"] else "")
               + ".")


@sources.command(name="delete")
@click.argument("source", type=int)
@click.option("--why", required=True, help="Why its reports are withdrawn (kept in the history).")
@who_option
@click.pass_context
def sources_delete(ctx: click.Context, source: int, why: str, who: str | None) -> None:
    """Withdraw every report of source SOURCE (its id), found unreliable: kept and shown, out of the figures,
    which are recomputed; `incidents sources restore SOURCE` brings them back."""
    result = api.source_delete(_db(ctx), source, why=why, who=who)
    output.say(f"Withdrew source #{source}'s reports of {', '.join(result['incidents'])}.")


@sources.command(name="restore")
@click.argument("source", type=int)
@why_option
@who_option
@click.pass_context
def sources_restore(ctx: click.Context, source: int, why: str | None, who: str | None) -> None:
    """Bring back the withdrawn reports of source SOURCE."""
    result = api.source_restore(_db(ctx), source, why=why, who=who)
    output.say(f"Restored source #{source}'s reports of {', '.join(result['incidents'])}.")


@cli.command(name="not-duplicate")
@click.argument("first")
@click.argument("second")
@click.option("--why", required=True, help="Why they are two attacks (kept for others to read).")
@who_option
@click.pass_context
def not_duplicate(ctx: click.Context, first: str, second: str, why: str, who: str | None) -> None:
    """Record that incidents FIRST and SECOND are two attacks, not one reported twice: `duplicates` leaves the
    pair out from then on."""
    result = api.not_duplicate(_db(ctx), first, second, who=who, why=why)
    if result["recorded"]:
        output.say(f"Recorded: {first} and {second} are two attacks; duplicates leaves the pair out.")
    else:
        output.say(f"{first} and {second} were judged two attacks already, by {result['by']}: {result['why']}")


@cli.command()
@click.argument("file", required=False)
@click.option("--published", metavar="YYYY-MM-DD",
              help="The article's publication date: resolves 'on Sunday', 'last month' and the like (a saved page's "
                   "own date otherwise).")
@click.option("--review", "review", type=click.Path(), metavar="REVIEW.yaml",
              help="Also write the proposals as a file to edit (delete a record, fix a field), then --apply it.")
@click.option("--url", help="With --review: the article's URL, to cite it by (a saved page's own otherwise).")
@click.option("--outlet", help="With --review: the outlet that published it (a saved page's site name otherwise).")
@click.option("--apply", "apply_file", type=click.Path(), metavar="REVIEW.yaml",
              help="Write a review file as edited: reports of the matched incidents, new provisional incidents; all "
                   "or none, and a second apply adds nothing.")
@json_option
@click.pass_context
def extract(ctx: click.Context, file: str | None, published: str | None, review: str | None, url: str | None,
            outlet: str | None, apply_file: str | None, as_json: bool) -> None:
    """Propose the attacks an article (FILE, plain UTF-8 text or a saved web page; - reads standard input)
    reports: date, place, tolls, type, perpetrators, each with the sentence it rests on (--json), and the stored
    incident each may be a report of. From a page, its main text, date, URL and outlet are taken. Nothing is
    written unless a review file is applied (docs/extraction.md)."""
    if apply_file:
        if file or review or published or url or outlet:
            raise click.UsageError("--apply takes everything from the review file; give it alone (fix the review's "
                                   "fields instead)")
        batch = api.extract_apply(_db(ctx), apply_file)
        if as_json:
            output.print_json(batch)
            return
        output.say(f"Applied {apply_file}: added reports to {len(batch['reported'])} incidents"
                   + (f" ({', '.join(batch['reported'])})" if batch["reported"] else "")
                   + f"; recorded {len(batch['added'])} new incidents"
                   + (f" ({', '.join(batch['added'])})" if batch["added"] else "")
                   + (f"; {len(batch['already'])} records were applied before, nothing added for them"
                      if batch["already"] else "") + ".")
        return
    if not file:
        raise click.UsageError("Give the article's FILE (or - for standard input), or --apply REVIEW.yaml")
    if (url or outlet) and not review:
        raise click.UsageError("--url and --outlet go into the review file; give --review REVIEW.yaml too")
    if file == "-":
        if review:
            raise click.UsageError("A review names the article's file: give the article as a file, not on standard "
                                   "input")
        try:
            most = limit("FULL_TEXT_BYTES")
            data = sys.stdin.buffer.read(most + 1)
            if len(data) > most:
                raise click.UsageError(f"Standard input holds more than {most:,} bytes, more than an article's text "
                                       "(INCIDENTS_MAX_FULL_TEXT_BYTES raises the bound)")
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise click.UsageError(f"Standard input is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        proposals = api.extract(_db(ctx), text=text, published=published)
    else:
        page = api.read_article(file=file)
        if page["html"] and not as_json:
            output.say("Read the page's main text ({:,} characters){}{}{}.".format(
                len(page["text"]), f"; published {page['published']}" if page["published"] and not published else "",
                f"; {page['outlet']}" if page["outlet"] else "", f"; {page['url']}" if page["url"] else ""))
        proposals = api.extract(_db(ctx), file=file, published=published, review=review, url=url, outlet=outlet,
                                article=page)
    if as_json:
        output.print_json(proposals)
    else:
        output.proposal_table(proposals)
    if review:
        output.say(f"Wrote the review to {review}: edit it, then run: incidents extract --apply {review}")


@cli.command()
@filter_options
@click.option("--out", required=True, type=click.Path(), metavar="DIR",
              help="The folder to write the site into: new, empty, or a site written before (it is replaced).")
@json_option
@click.pass_context
def site(ctx: click.Context, out: str, as_json: bool, **filters: Any) -> None:
    """Write a static site of the incidents (index with the timeline, groups and a search box; a page per
    incident, group and province; a map) into DIR. It opens from the file system with no network: send the folder,
    or open DIR/index.html (docs/site.md)."""
    with output.count_progress("Writing the site", "incidents") as progress:
        result = api.site(_db(ctx), out, progress=None if as_json else progress, **filters)
    if as_json:
        output.print_json(result)
        return
    output.say(f"Wrote the site of {result['incidents']} incidents to {out}: {result['pages']} pages "
               f"({result['groups']} groups, {result['provinces']} provinces, {result['list_pages']} list pages); "
               f"{result['on_map']} incidents on the map. Open {Path(out) / 'index.html'}")


@cli.command()
@click.option("--port", type=int, default=8001, show_default=True, help="The port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0 lets other machines in: the database is then theirs to read).")
@click.pass_context
def serve(ctx: click.Context, port: int, host: str) -> None:
    """Browse and query the database in a web browser: Datasette on it, with the reporting views described and
    canned queries for the usual questions. An optional extra: pip install '.[web]'. Ctrl-C stops it."""
    import contextlib
    import signal
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="incidents-serve-") as folder:
        command = api.serve_command(_db(ctx), Path(folder) / "metadata.json", port=port, host=host)
        shown = f"[{host}]" if ":" in host else host
        output.say(f"Serving {command[4]} at http://{shown}:{port}/ (Ctrl-C stops it)")
        server = subprocess.Popen(command)

        def stop(*_: object) -> None:  # a SIGTERM to this command stops Datasette too, never leaves it running
            server.terminate()

        signal.signal(signal.SIGTERM, stop)
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
        if server.poll() is None:
            server.terminate()
        code = server.wait()
    if code not in (0, -signal.SIGTERM, -signal.SIGINT, 130, 143):
        raise click.ClickException(f"Datasette stopped with exit code {code} (see its message above: a port in use, "
                                   "a host that is none?)")


@cli.command()
@click.argument("key")
@json_option
@click.pass_context
def history(ctx: click.Context, key: str, as_json: bool) -> None:
    """Every recorded change to incident KEY, its reports and actor links: old and new value, when, who, why."""
    rows = api.history(_db(ctx), key)
    if as_json:
        output.print_json(rows)
    else:
        output.history_table(rows, key)


@cli.group()
def db() -> None:
    """Schema version: show it, upgrade or downgrade it."""


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    state = api.current(_db(ctx))
    status = "up to date" if state["current"] == state["head"] else "needs: incidents db upgrade"
    output.say(f"{state['database']}: revision {state['current'] or '(none)'}; newest {state['head']} ({status})")


@db.command()
@click.argument("revision", default="head")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Migrate the schema up to REVISION (default: the newest)."""
    state = api.upgrade(_db(ctx), revision)
    output.say(f"{state['database']} is now at revision {state['current']}.")


@db.command(context_settings={"ignore_unknown_options": True})  # so that `-1` is a revision, not an option
@click.argument("revision")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Migrate the schema down to REVISION (-1 for one step, base to drop every table)."""
    state = api.downgrade(_db(ctx), revision)
    output.say(f"{state['database']} is now at revision {state['current'] or '(none: empty)'}.")


@db.command(name="backup")
@click.argument("path", type=click.Path())
@click.pass_context
def backup_(ctx: click.Context, path: str) -> None:
    """Back the database up to PATH: SQLite's online backup (consistent while others write), pg_dump on
    PostgreSQL (custom format; the PostgreSQL client tools must be installed)."""
    output.say(api.backup(_db(ctx), path))


@db.command(name="restore")
@click.argument("path", type=click.Path())
@click.pass_context
def restore_(ctx: click.Context, path: str) -> None:
    """Replace the database's contents with the backup at PATH (made by `incidents db backup`)."""
    output.say(api.restore(_db(ctx), path))


@db.command(name="grant-reader")
@click.argument("role")
@click.option("--password", help="Set the role's login password.")
@click.pass_context
def grant_reader(ctx: click.Context, role: str, password: str | None) -> None:
    """PostgreSQL: let ROLE (created if needed) SELECT the reporting views (incident_report, group_summary,
    monthly_activity) and nothing else: no base tables, no writes. For BI tools and read-only users."""
    output.say(api.grant_reader(_db(ctx), role, password))
