"""How well `incidents extract` reads articles: precision, recall and per-field accuracy on the development set
(fixtures/extraction/manifest.yaml), and the time per article; a JSON line at the end.

A proposal matches an expected incident when its date, at its precision, and its place agree (the place by any
of the expected place, district or province words; an expected date of null takes any). Each expected incident
is matched at most once. Articles with no attack count every proposal as a false one.

    python bench/bench_extract.py [--manifest PATH] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from incidents.extract import Groups, propose  # noqa: E402
from incidents.gazetteer import fold, resolve_place  # noqa: E402

REGISTRY = ROOT / "fixtures" / "actors.yaml"


def groups() -> dict[str, str]:
    """Every spelling of every group in the bundled registry -> its name (as a database's registry has them)."""
    data = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    spellings: dict[str, str] = {}
    for actor in data.get("actors", []):
        if actor.get("kind", "group") != "group":
            continue
        for name in [actor["name"], *(alias if isinstance(alias, str) else alias.get("alias", "")
                                      for alias in actor.get("aliases", []))]:
            if name and len(name) >= 3:
                spellings.setdefault(name, actor["name"])
    return spellings


# the manifests' attributions as the database names them
ATTRIBUTIONS = {"claimed": "claimed", "blamed": "attributed", "suspected": "suspected", "denied": "denied"}


def _words(text: str | None) -> set[str]:
    return set(fold(text or "").split()) - {"district", "agency", "province", "city", "area"}


def place_agrees(proposal: dict, expected: dict) -> bool:
    """The proposal's place has the words of the expected place, district or province (or they have all of its),
    or it lies in the expected district as the gazetteer codes them ('Parachinar' in 'Kurram Agency')."""
    got = _words(proposal.get("place"))
    if not any(expected.get(k) for k in ("place", "district", "province")):
        return not got  # the text names no place: neither may the proposal
    if proposal.get("admin2") and expected.get("district"):
        found = resolve_place(str(expected["district"]), proposal.get("country"))
        if found is not None and found.admin2_code == proposal["admin2"]:
            return True
    return any(words and words <= got or (got and got <= words)
               for words in (_words(expected.get(k)) for k in ("place", "district", "province")))


def date_agrees(proposal: dict, expected: dict) -> bool:
    return expected.get("date") is None or proposal.get("date") == str(expected["date"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=ROOT / "fixtures" / "extraction" / "manifest.yaml")
    parser.add_argument("--show", action="store_true", help="print each article's proposals and misses")
    options = parser.parse_args()
    manifest = yaml.safe_load(options.manifest.read_text(encoding="utf-8"))
    spellings = groups()
    expected_total = proposed_total = matched = false_from_no_attack = killed_exact = killed_known = 0
    wounded_exact = wounded_known = group_right = group_known = group_wrong = attribution_right = 0
    known = Groups(spellings)  # the expected perpetrator as the registry names it, by the extractor's own rule
    seconds = 0.0
    for entry in manifest:
        text = (options.manifest.parent / entry["file"]).read_text(encoding="utf-8")
        published = date.fromisoformat(str(entry["published"])) if entry.get("published") else None
        start = time.perf_counter()
        proposals = [p.as_dict() for p in propose(text, published, spellings)]
        seconds = max(seconds, time.perf_counter() - start)
        expected = entry.get("incidents") or []
        expected_total += len(expected)
        proposed_total += len(proposals)
        if not entry.get("attack"):
            false_from_no_attack += len(proposals)
        left = list(expected)
        extra = []
        for proposal in proposals:
            hit = next((e for e in left if place_agrees(proposal, e) and date_agrees(proposal, e)), None)
            if hit is None:
                extra.append(proposal)
                continue
            left.remove(hit)
            matched += 1
            if hit.get("killed") is not None:
                killed_known += 1
                killed_exact += proposal.get("killed") == hit["killed"]
            if hit.get("wounded") is not None:
                wounded_known += 1
                wounded_exact += proposal.get("wounded") == hit["wounded"]
            # the perpetrator, as the registry names it; a group the text does not name as perpetrator is wrong
            stated = [p for p in proposal["perpetrators"] if not p["from_context"]]
            named = known.find(str(hit.get("perpetrator") or ""))
            want = named[0][0] if named else None
            if want is not None:
                group_known += 1
                if stated and stated[0]["name"] == want:
                    group_right += 1
                    attribution_right += stated[0]["attribution"] == ATTRIBUTIONS.get(hit.get("attribution"))
            elif stated and not hit.get("perpetrator"):
                group_wrong += 1
        if options.show:
            print(f"--- {entry['file']}: {len(proposals)} proposed, {len(expected)} expected, {len(left)} missed")
            for proposal in proposals:
                print("   ", proposal["date"], proposal["place"], proposal["killed"], proposal["wounded"])
            for proposal in extra:
                print("    NOT EXPECTED", proposal["date"], proposal["place"], proposal["killed"])
            for miss in left:
                print("    MISSED", miss.get("date"), miss.get("place"), miss.get("district"), miss.get("killed"))
    # a 2,000-word article: the set's openings one after another, cut at 2,000 words
    words = " ".join((options.manifest.parent / e["file"]).read_text(encoding="utf-8") for e in manifest).split(" ")
    long_text = " ".join(words[:2000])
    start = time.perf_counter()
    propose(long_text, None, spellings)
    long_seconds = time.perf_counter() - start
    figures = {
        "articles": len(manifest), "expected": expected_total, "proposed": proposed_total, "matched": matched,
        "precision": round(matched / proposed_total, 3) if proposed_total else 0.0,
        "recall": round(matched / expected_total, 3) if expected_total else 0.0,
        "killed_exact_of_matched": round(killed_exact / killed_known, 3) if killed_known else 0.0,
        "wounded_exact_of_matched": round(wounded_exact / wounded_known, 3) if wounded_known else 0.0,
        "group_right_of_matched_with_known_group": round(group_right / group_known, 3) if group_known else 0.0,
        "attribution_right_of_right_groups": round(attribution_right / group_right, 3) if group_right else 0.0,
        "groups_named_where_text_names_none": group_wrong,
        "proposals_from_no_attack_articles": false_from_no_attack,
        "slowest_article_s": round(seconds, 4),
        "words_2000_s": round(long_seconds, 4),
    }
    for name, value in figures.items():
        print(f"{name:<42} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
