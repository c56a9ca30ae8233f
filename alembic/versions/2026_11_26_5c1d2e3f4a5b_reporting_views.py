"""reporting views: incident_report, group_summary, monthly_activity

Revision ID: 5c1d2e3f4a5b
Revises: ea60445b2e96
Create Date: 2026-11-26 01:55:00

Views are written by hand (autogenerate does not see them). The SQL is the same on both engines except for
string aggregation and the month label, chosen by dialect below; names sort by code point on both
(COLLATE "C" on PostgreSQL, SQLite's default), as incidents.timelines does in Python. A later migration that
rebuilds a table these views read (SQLite batch mode) must call drop_views() first and create_views() after.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "5c1d2e3f4a5b"
down_revision: str | Sequence[str] | None = "ea60445b2e96"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = ("incident_report", "group_summary", "monthly_activity")


def _perpetrators(postgres: bool) -> str:
    label = "a.name || COALESCE(' (' || ia.attribution || ')', '')"
    where = "ia.incident_id = i.id AND ia.role = 'perpetrator'"
    if postgres:
        return (f"(SELECT string_agg({label}, '; ' ORDER BY a.name COLLATE \"C\") FROM incident_actors ia "
                f"JOIN actors a ON a.id = ia.actor_id WHERE {where})")
    return (f"(SELECT group_concat(label, '; ') FROM (SELECT {label} AS label FROM incident_actors ia "
            f"JOIN actors a ON a.id = ia.actor_id WHERE {where} ORDER BY a.name))")


def create_views() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    month = "to_char(i.date_start, 'YYYY-MM')" if postgres else "strftime('%Y-%m', i.date_start)"
    op.execute(f"""
        CREATE VIEW incident_report AS
        SELECT i.key, i.title, i.date_start, i.date_end, i.date_precision,
               l.country, l.admin1, l.admin2, l.place, l.latitude, l.longitude, l.geo_precision,
               {_perpetrators(postgres)} AS perpetrators,
               i.attack_type, i.target_type, i.weapon_type, i.suicide, i.status,
               i.killed_low, i.killed_best, i.killed_high, i.wounded_low, i.wounded_best, i.wounded_high,
               i.perpetrators_killed,
               (SELECT COUNT(DISTINCT r.source_id) FROM reports r WHERE r.incident_id = i.id) AS source_count,
               (SELECT s.url FROM reports r JOIN sources s ON s.id = r.source_id
                 WHERE r.incident_id = i.id AND s.url IS NOT NULL
                 ORDER BY CASE WHEN r.reported_on IS NULL THEN 1 ELSE 0 END, r.reported_on, r.id
                 LIMIT 1) AS first_source_url,
               i.origin_dataset, i.origin_id
        FROM incidents i LEFT JOIN locations l ON l.id = i.location_id
    """)
    op.execute("""
        CREATE VIEW group_summary AS
        SELECT a.name AS actor, a.kind, p.name AS parent,
               COUNT(*) AS incidents,
               COALESCE(SUM(i.killed_best), 0) AS killed_best,
               COALESCE(SUM(i.killed_low), 0) AS killed_low,
               COALESCE(SUM(i.killed_high), 0) AS killed_high,
               COALESCE(SUM(i.wounded_best), 0) AS wounded_best,
               MIN(i.date_start) AS first_attack, MAX(i.date_start) AS last_attack,
               SUM(CASE WHEN ia.attribution = 'claimed' THEN 1 ELSE 0 END) AS claimed,
               SUM(CASE WHEN ia.attribution = 'attributed' THEN 1 ELSE 0 END) AS attributed,
               SUM(CASE WHEN ia.attribution = 'suspected' THEN 1 ELSE 0 END) AS suspected
        FROM incident_actors ia
        JOIN incidents i ON i.id = ia.incident_id
        JOIN actors a ON a.id = ia.actor_id
        LEFT JOIN actors p ON p.id = a.parent_id
        WHERE ia.role = 'perpetrator'
        GROUP BY a.id, a.name, a.kind, p.name
    """)
    op.execute(f"""
        CREATE VIEW monthly_activity AS
        SELECT a.name AS actor, {month} AS month,
               COUNT(*) AS incidents,
               COALESCE(SUM(i.killed_best), 0) AS killed_best,
               COALESCE(SUM(i.killed_low), 0) AS killed_low,
               COALESCE(SUM(i.killed_high), 0) AS killed_high,
               COALESCE(SUM(i.wounded_best), 0) AS wounded_best
        FROM incident_actors ia
        JOIN incidents i ON i.id = ia.incident_id
        JOIN actors a ON a.id = ia.actor_id
        WHERE ia.role = 'perpetrator' AND i.date_precision IN ('day', 'month')
        GROUP BY a.name, {month}
    """)


def drop_views() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")


def upgrade() -> None:
    create_views()


def downgrade() -> None:
    drop_views()
