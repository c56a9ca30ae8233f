"""honest group views: denials left out, unknown tolls NULL and counted, day arithmetic on dated days only

Revision ID: 648d59eab669
Revises: 830d4797c177
Create Date: 2026-12-03 04:30:00

group_summary and monthly_activity follow the rules of docs/reporting.md ("The rules behind every figure"):
- a link with attribution 'denied' does not make an incident the group's attack;
- a toll sums the known figures and is NULL when none is known (never 0), with unknown_killed and
  unknown_wounded counting the incidents whose toll is unknown;
- first_attack and last_attack are day-precision attacks only; coarse_dated counts the others.
incident_report is unchanged. The SQL is copied, not imported: a migration keeps the SQL of its own time.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "648d59eab669"
down_revision: str | Sequence[str] | None = "830d4797c177"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = "ia.role = 'perpetrator' AND (ia.attribution IS NULL OR ia.attribution <> 'denied')"
LIVE = "i.merged_into_id IS NULL"


def _month(postgres: bool) -> str:
    return "to_char(i.date_start, 'YYYY-MM')" if postgres else "strftime('%Y-%m', i.date_start)"


def _create(group_summary: str, monthly_activity: str) -> None:
    op.execute("DROP VIEW IF EXISTS group_summary")
    op.execute("DROP VIEW IF EXISTS monthly_activity")
    op.execute(f"CREATE VIEW group_summary AS {group_summary}")
    op.execute(f"CREATE VIEW monthly_activity AS {monthly_activity}")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _create(f"""
        SELECT a.name AS actor, a.kind, p.name AS parent,
               COUNT(*) AS incidents,
               SUM(i.killed_best) AS killed_best,
               SUM(i.killed_low) AS killed_low,
               SUM(i.killed_high) AS killed_high,
               SUM(CASE WHEN i.killed_best IS NULL THEN 1 ELSE 0 END) AS unknown_killed,
               SUM(i.wounded_best) AS wounded_best,
               SUM(CASE WHEN i.wounded_best IS NULL THEN 1 ELSE 0 END) AS unknown_wounded,
               MIN(CASE WHEN i.date_precision = 'day' THEN i.date_start END) AS first_attack,
               MAX(CASE WHEN i.date_precision = 'day' THEN i.date_start END) AS last_attack,
               SUM(CASE WHEN i.date_precision = 'day' THEN 0 ELSE 1 END) AS coarse_dated,
               SUM(CASE WHEN ia.attribution = 'claimed' THEN 1 ELSE 0 END) AS claimed,
               SUM(CASE WHEN ia.attribution = 'attributed' THEN 1 ELSE 0 END) AS attributed,
               SUM(CASE WHEN ia.attribution = 'suspected' THEN 1 ELSE 0 END) AS suspected
        FROM incident_actors ia
        JOIN incidents i ON i.id = ia.incident_id
        JOIN actors a ON a.id = ia.actor_id
        LEFT JOIN actors p ON p.id = a.parent_id
        WHERE {COUNTED} AND {LIVE}
        GROUP BY a.id, a.name, a.kind, p.name
    """, f"""
        SELECT a.name AS actor, {_month(postgres)} AS month,
               COUNT(*) AS incidents,
               SUM(i.killed_best) AS killed_best,
               SUM(i.killed_low) AS killed_low,
               SUM(i.killed_high) AS killed_high,
               SUM(CASE WHEN i.killed_best IS NULL THEN 1 ELSE 0 END) AS unknown_killed,
               SUM(i.wounded_best) AS wounded_best,
               SUM(CASE WHEN i.wounded_best IS NULL THEN 1 ELSE 0 END) AS unknown_wounded
        FROM incident_actors ia
        JOIN incidents i ON i.id = ia.incident_id
        JOIN actors a ON a.id = ia.actor_id
        WHERE {COUNTED} AND i.date_precision IN ('day', 'month') AND {LIVE}
        GROUP BY a.name, {_month(postgres)}
    """)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _create(f"""
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
        WHERE ia.role = 'perpetrator' AND {LIVE}
        GROUP BY a.id, a.name, a.kind, p.name
    """, f"""
        SELECT a.name AS actor, {_month(postgres)} AS month,
               COUNT(*) AS incidents,
               COALESCE(SUM(i.killed_best), 0) AS killed_best,
               COALESCE(SUM(i.killed_low), 0) AS killed_low,
               COALESCE(SUM(i.killed_high), 0) AS killed_high,
               COALESCE(SUM(i.wounded_best), 0) AS wounded_best
        FROM incident_actors ia
        JOIN incidents i ON i.id = ia.incident_id
        JOIN actors a ON a.id = ia.actor_id
        WHERE ia.role = 'perpetrator' AND i.date_precision IN ('day', 'month') AND {LIVE}
        GROUP BY a.name, {_month(postgres)}
    """)
