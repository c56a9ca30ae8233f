"""Proposals against the database: the stored incidents each may be a report of, and the review file a person
edits before `incidents extract --apply` writes it."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from incidents.extract.proposals import Proposal


def registry_spellings(session: Any) -> dict[str, str]:
    """Every spelling of every group in the registry (names and aliases of three letters or more) -> its name."""
    from sqlalchemy import select

    from incidents.models import Actor, ActorAlias, ActorKind

    spellings: dict[str, str] = {}
    rows = session.execute(select(ActorAlias.alias, Actor.name).join(Actor, Actor.id == ActorAlias.actor_id)
                           .where(Actor.kind == ActorKind.GROUP.value))
    for alias, name in [*rows, *session.execute(select(Actor.name, Actor.name).where(
            Actor.kind == ActorKind.GROUP.value))]:
        if len(alias) >= 3:
            spellings.setdefault(alias, name)
    return spellings


def matches(session: Any, proposal: Proposal) -> list[dict[str, Any]]:
    """The stored incidents the proposal may be, best first (curation.duplicates.likely_same: overlapping dates,
    coarse ones as intervals, at the same place or district, a province only with a shared group), each with a
    score: 1.0 when it also shares a group with the proposal, else 0.5."""
    from types import SimpleNamespace

    from incidents.curation.duplicates import _named_groups, likely_same
    from incidents.models import Role
    from incidents.records import ActorLink, LocationRecord, parse_partial_date

    if proposal.date is None or proposal.country is None:
        return []
    start, precision = parse_partial_date(proposal.date)
    location = LocationRecord(country=proposal.country, admin1=proposal.admin1, admin2=None, place=proposal.place)
    record = SimpleNamespace(
        location=location, date_start=start, date_end=None, date_precision=precision.value,
        actors=[ActorLink(name=p.name, role=Role.PERPETRATOR, attribution=None) for p in proposal.perpetrators])
    found = likely_same(session, record)
    named = _named_groups(session, record)
    for item in found:  # the date and the place or district agree; a shared group makes it surer
        item["score"] = 1.0 if named & set(item["groups"]) else 0.5
    return sorted(found, key=lambda item: (-item["score"], item["key"]))


def review_text(session: Any, proposals: list[dict[str, Any]], article: Any, text: str, review: Any,
                published: date | None = None, url: str | None = None, outlet: str | None = None) -> str:
    """The review file of `extract --review`: one record per proposal, in the format `add --from` reads (a report
    of the best-matching incident, `report_of: KEY`, or a new provisional incident), each after a comment with the
    sentences its fields rest on. A person deletes a record or fixes a field, then `extract --apply` writes it."""
    import hashlib
    import os

    import yaml
    from sqlalchemy import select

    from incidents.gazetteer import district, unit_name
    from incidents.models import Source

    digest = hashlib.sha256(text.encode()).hexdigest()
    stored = session.scalar(select(Source.id).where(Source.full_text_sha256 == digest).order_by(Source.id).limit(1))
    common: dict[str, Any] = {"text_file": os.path.relpath(article, os.path.dirname(os.path.abspath(review)))}
    if stored is not None:
        common["source"] = stored  # the article is stored already: its reports join that source
    elif url:
        common["source_url"] = url
    else:
        common["citation"] = None  # to fill in: the article has no URL to cite it by
    for name, value in (("outlet", outlet), ("published", published.isoformat() if published else None)):
        if value is not None and stored is None:
            common[name] = value
    parts = [f"# Review of {json.dumps(str(article), ensure_ascii=False)}: what `incidents extract` proposed.\n"
             f"# article sha256: {digest}\n"
             "# Delete a record to leave it out, fix any field, then: incidents extract --apply THIS_FILE\n"
             "# A record with report_of adds this article's account to that incident; one without is a new,\n"
             "# provisional incident. Applying the same file twice adds nothing.\n"]
    if stored is None and not url:
        parts.append("# Fill in `citation` (or give `source_url`) in every record before applying.\n")
    for number, proposal in enumerate(proposals, start=1):
        row: dict[str, Any] = {}
        evidence = proposal["evidence"]
        best = proposal["matches"][0] if proposal["matches"] else None
        if best is not None:
            row["report_of"] = best["key"]
        else:
            row.update({"date": proposal["date"], "country": proposal["country"],
                        "admin1": unit_name(proposal["admin1"]) if proposal["admin1"] else None,
                        "admin2": district(proposal["admin2"]).name  # type: ignore[union-attr]
                        if proposal["admin2"] and district(proposal["admin2"]) else None,
                        "place": proposal["place"], "attack_type": proposal["attack_type"],
                        "target_type": proposal["target"], "status": "provisional"})
        row.update(common)
        killed = f"{proposal['killed_low']}-{proposal['killed']}" if proposal.get("killed_low") is not None \
            else proposal["killed"]
        row.update({"killed": killed, "killed_at_least": proposal["killed_at_least"] or None,
                    "wounded": proposal["wounded"], "wounded_at_least": proposal.get("wounded_at_least") or None,
                    "perpetrators_killed": proposal.get("attackers_killed")})
        names = [f"{p['stated'] or p['name']}={p['attribution']}" for p in proposal["perpetrators"]]
        if names:
            row["perpetrators"] = names if best is None else names[0]
        tolls = [e for e in evidence if e["field"] == "killed"] or evidence
        if tolls:
            row["excerpt"] = tolls[0]["sentence"]
        row = {name: value for name, value in row.items() if value is not None or name == "citation"}
        lines = [f"\n# {number}. " + (f"a report of {best['key']} (score {best['score']})" if best else "new")
                 + (f"; also possible: {', '.join(m['key'] for m in proposal['matches'][1:])}"
                    if len(proposal["matches"]) > 1 else "")]
        for item in evidence:
            lines.append(f"#    {item['field']} = {item['value']!r}  <- [{item['start']}:{item['end']}] "
                         f"{' '.join(item['sentence'].split())[:160]}")
        if any(p["from_context"] for p in proposal["perpetrators"]):
            lines.append("#    (the perpetrator is the group the sentences before it are about: check it)")
        parts.append("\n".join(lines) + "\n" + yaml.safe_dump([row], allow_unicode=True, sort_keys=False, width=110))
    return "".join(parts)


DIGEST_LINE = "# article sha256: "


def review_digest(review: Any) -> str | None:
    """The sha256 of the article a review file was written from, as its header gives it (None in a review written
    before reviews gave it)."""
    import re
    from pathlib import Path

    with Path(review).open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            found = re.fullmatch(r"# article sha256: ([0-9a-f]{64})\s*", line)
            if found:
                return found.group(1)
    return None


def check_review_article(session: Any, review: Any, rows: list[tuple[int, dict[str, Any]]], digest: str) -> None:
    """InputError unless every record's article is the one the review was written from: its `text_file` holds that
    text (not the review, the raw page or an edited copy), and a stored `source` it names holds that text or none."""
    import hashlib
    from pathlib import Path

    from incidents.errors import InputError
    from incidents.models import Source

    problems = []
    folder = Path(review).parent
    for line, fields in rows:
        named = fields.get("text_file")
        if isinstance(named, str) and named.strip():
            path = Path(named) if Path(named).is_absolute() else folder / named
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # add --from names a text file it cannot read, with its line
            if hashlib.sha256(text.encode()).hexdigest() != digest:
                problems.append(f"{Path(review).name}:{line}: field text_file {named} is not the article this review "
                                "was written from (its text differs); run incidents extract --review again")
        stored_id = fields.get("source")
        if isinstance(stored_id, int):
            source = session.get(Source, stored_id)
            if source is not None and source.full_text_sha256 and source.full_text_sha256 != digest:
                problems.append(f"{Path(review).name}:{line}: field source #{stored_id} holds another article's text "
                                "(a review written against another database?); give the article's source_url or "
                                "citation instead")
    if problems:
        raise InputError(f"{Path(review).name}: {len(problems)} records name another article; nothing was recorded:",
                         problems)
