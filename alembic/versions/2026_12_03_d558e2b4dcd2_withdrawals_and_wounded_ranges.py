"""withdrawals, wounded ranges, dated actor links

Revision ID: d558e2b4dcd2
Revises: f7161d61ac83
Create Date: 2026-12-03 10:05:00

- incidents.withdrawn_at: `incidents delete KEY --why` withdraws an incident; it is kept with its history and
  left out of the views as a merged record is; `incidents restore KEY` clears it.
- reports.withdrawn_at: a withdrawn report is kept and left out of the figures and the views' source counts.
- reports.wounded_low / wounded_high: a source's range of wounded ("20 to 30 wounded"), as killed has.
- incident_actors.created_at: when a link was made, so that `--as-of` counts a link an analyst adds later
  from that day (NULL for the links made before: they count from their incident's recording, as before).

The three views are re-created with the withdrawn left out. The SQL is copied, not imported: a migration keeps
the SQL of its own time.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d558e2b4dcd2"
down_revision: str | Sequence[str] | None = "f7161d61ac83"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = ("incident_report", "group_summary", "monthly_activity")
COUNTED = "ia.role = 'perpetrator' AND (ia.attribution IS NULL OR ia.attribution <> 'denied')"
COUNTS = ("(killed IS NULL OR killed >= 0) AND (killed_low IS NULL OR killed_low >= 0) AND "
          "(killed_high IS NULL OR killed_high >= 0) AND (wounded IS NULL OR wounded >= 0) AND "
          "(perpetrators_killed IS NULL OR perpetrators_killed >= 0)")
COUNTS_WITH_WOUNDED_RANGE = (
    "(killed IS NULL OR killed >= 0) AND (killed_low IS NULL OR killed_low >= 0) AND "
    "(killed_high IS NULL OR killed_high >= 0) AND (wounded IS NULL OR wounded >= 0) AND "
    "(wounded_low IS NULL OR wounded_low >= 0) AND (wounded_high IS NULL OR wounded_high >= 0) AND "
    "(perpetrators_killed IS NULL OR perpetrators_killed >= 0)"
)
WOUNDED_ORDER = (
    "(wounded_low IS NULL OR wounded IS NULL OR wounded_low <= wounded) AND "
    "(wounded IS NULL OR wounded_high IS NULL OR wounded <= wounded_high) AND "
    "(wounded_low IS NULL OR wounded_high IS NULL OR wounded_low <= wounded_high)"
)


def _perpetrators(postgres: bool) -> str:
    label = "a.name || COALESCE(' (' || ia.attribution || ')', '')"
    where = "ia.incident_id = i.id AND ia.role = 'perpetrator'"
    if postgres:
        return (f"(SELECT string_agg({label}, '; ' ORDER BY a.name COLLATE \"C\") FROM incident_actors ia "
                f"JOIN actors a ON a.id = ia.actor_id WHERE {where})")
    return (f"(SELECT group_concat(label, '; ') FROM (SELECT {label} AS label FROM incident_actors ia "
            f"JOIN actors a ON a.id = ia.actor_id WHERE {where} ORDER BY a.name))")


def _month(postgres: bool) -> str:
    return "to_char(i.date_start, 'YYYY-MM')" if postgres else "strftime('%Y-%m', i.date_start)"


def create_views(withdrawals: bool) -> None:
    """The views; with `withdrawals`, withdrawn incidents and reports are left out."""
    postgres = op.get_bind().dialect.name == "postgresql"
    live = "i.merged_into_id IS NULL" + (" AND i.withdrawn_at IS NULL" if withdrawals else "")
    report_live = " AND r.withdrawn_at IS NULL" if withdrawals else ""
    op.execute(f"""
        CREATE VIEW incident_report AS
        SELECT i.key, i.title, i.date_start, i.date_end, i.date_precision,
               l.country, l.admin1, l.admin2, l.place, l.latitude, l.longitude, l.geo_precision,
               {_perpetrators(postgres)} AS perpetrators,
               i.attack_type, i.target_type, i.weapon_type, i.suicide, i.status,
               i.killed_low, i.killed_best, i.killed_high, i.wounded_low, i.wounded_best, i.wounded_high,
               i.perpetrators_killed,
               (SELECT COUNT(DISTINCT r.source_id) FROM reports r
                 WHERE r.incident_id = i.id{report_live}) AS source_count,
               (SELECT s.url FROM reports r JOIN sources s ON s.id = r.source_id
                 WHERE r.incident_id = i.id AND s.url IS NOT NULL{report_live}
                 ORDER BY CASE WHEN r.reported_on IS NULL THEN 1 ELSE 0 END, r.reported_on, r.id
                 LIMIT 1) AS first_source_url,
               i.origin_dataset, i.origin_id
        FROM incidents i LEFT JOIN locations l ON l.id = i.location_id
        WHERE {live}
    """)
    op.execute(f"""
        CREATE VIEW group_summary AS
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
        WHERE {COUNTED} AND {live}
        GROUP BY a.id, a.name, a.kind, p.name
    """)
    op.execute(f"""
        CREATE VIEW monthly_activity AS
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
        WHERE {COUNTED} AND i.date_precision IN ('day', 'month') AND {live}
        GROUP BY a.name, {_month(postgres)}
    """)


def drop_views() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")


def upgrade() -> None:
    drop_views()  # SQLite's batch mode rebuilds reports, which the views read
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("incident_actors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wounded_low", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("wounded_high", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        # Written by hand: autogenerate does not compare CHECK constraints.
        batch_op.drop_constraint(op.f("ck_reports_counts_non_negative"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reports_counts_non_negative"), COUNTS_WITH_WOUNDED_RANGE)
        batch_op.create_check_constraint(op.f("ck_reports_wounded_order"), WOUNDED_ORDER)
    create_views(withdrawals=True)


def downgrade() -> None:
    drop_views()
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reports_wounded_order"), type_="check")
        batch_op.drop_constraint(op.f("ck_reports_counts_non_negative"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reports_counts_non_negative"), COUNTS)
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("wounded_high")
        batch_op.drop_column("wounded_low")
    with op.batch_alter_table("incident_actors", schema=None) as batch_op:
        batch_op.drop_column("created_at")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
    create_views(withdrawals=False)
