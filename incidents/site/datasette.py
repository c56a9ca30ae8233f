"""`incidents serve`: Datasette on the database, with the project's metadata (titles, what each reporting view and
its columns mean, canned queries for the questions README asks), so a colleague can browse and query it in a web
browser. Datasette is an optional extra: pip install '.[web]'."""

from __future__ import annotations

from typing import Any

VIEWS = {
    "incident_report": {
        "description": "One row per incident, merged and withdrawn records left out: its dates and precision, place "
                       "with its ISO 3166-2 codes and point, perpetrators as 'Name (attribution); ...', tolls low, "
                       "best and high (NULL is unknown, never 0), how many sources report it.",
        "columns": {
            "key": "The incident's stable key.",
            "date_start": "The first day the date can be; with date_precision month or year, the date is known only "
                          "to that precision.",
            "date_precision": "day, month or year.",
            "admin1_code": "ISO 3166-2 code of the province (PK-BA).",
            "admin2_code": "The district's code: the province's code, a colon and the district's folded name.",
            "geo_precision": "How precisely the point is known: exact, place, district, province, country, or from the "
                             "gazetteer (gazetteer_place, gazetteer_district).",
            "perpetrators": "The perpetrator groups, each with its attribution (claimed, attributed, suspected).",
            "killed_best": "The best figure of the killed: the analyst's choice, else the latest settled report's.",
            "killed_low": "The lowest figure a settled report gives.",
            "killed_high": "The highest figure a settled report gives.",
            "source_count": "Distinct sources of the incident's live reports.",
        },
    },
    "group_summary": {
        "description": "One row per perpetrator group (other than by a denial): incidents, tolls summed over the "
                       "known figures with how many are unknown, first and last attack known to the day, how many "
                       "are dated only to the month or year, and how the attacks are tied to the group.",
        "columns": {
            "unknown_killed": "Incidents whose toll no report gives: left out of the sums, never counted as 0.",
            "first_attack": "The earliest attack known to the day.",
            "last_attack": "The latest attack known to the day.",
            "coarse_dated": "Attacks known only to the month or year.",
        },
    },
    "monthly_activity": {
        "description": "One row per perpetrator group and month: incidents and tolls, over the incidents dated to the "
                       "day or the month (those known only to the year are left out).",
        "columns": {"month": "YYYY-MM."},
    },
}

QUERIES = {
    "groups_by_incidents": {
        "title": "Which groups attacked most, and how many did they kill?",
        "sql": "SELECT actor, incidents, killed_best, killed_low, killed_high, unknown_killed, first_attack, "
               "last_attack FROM group_summary ORDER BY incidents DESC",
    },
    "group_per_year": {
        "title": "A group's incidents and killed per year",
        "sql": "SELECT substr(month, 1, 4) AS year, sum(incidents) AS incidents, sum(killed_best) AS killed_best "
               "FROM monthly_activity WHERE actor = :actor GROUP BY year ORDER BY year",
    },
    "province_since": {
        "title": "The incidents in a province (its ISO code, PK-BA, or its name as stored) since a date, deadliest "
                 "first",
        "sql": "SELECT key, date_start, date_precision, place, perpetrators, killed_best, killed_low, killed_high, "
               "source_count FROM incident_report WHERE (admin1_code = :province OR admin1 = :province) "
               "AND date_start >= :since "
               "ORDER BY killed_best DESC",
    },
    "reports_behind_a_toll": {
        "title": "Every report behind an incident's figures, with its source and excerpt",
        "sql": "SELECT s.outlet, s.url, s.citation, r.reported_on, r.killed, r.wounded, r.preliminary, r.excerpt "
               "FROM reports r JOIN sources s ON s.id = r.source_id JOIN incidents i ON i.id = r.incident_id "
               "WHERE i.key = :key AND r.withdrawn_at IS NULL ORDER BY r.reported_on",
    },
}


def metadata(database_name: str) -> dict[str, Any]:
    """Datasette's metadata for the database served under `database_name` (its file name without .db)."""
    return {
        "title": "incidents",
        "description": "Attack incidents: who, when, where, how many killed and wounded, and the articles that say "
                       "so. Start with the three reporting views; every figure names its reports "
                       "(reports_behind_a_toll).",
        "databases": {
            database_name: {
                "tables": VIEWS,
                "queries": QUERIES,
            },
        },
    }
