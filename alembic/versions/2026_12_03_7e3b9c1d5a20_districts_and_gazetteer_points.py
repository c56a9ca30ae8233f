"""districts and gazetteer points: locations.admin2_code, gazetteer coordinates, provinces from coordinates

Revision ID: 7e3b9c1d5a20
Revises: 2ade7b1b8261
Create Date: 2026-12-03 13:10:00

- locations.admin2_code: the gazetteer's district code ('PK-KP:bajaur') by any spelling of admin2 it knows.
- geo_precision may be 'gazetteer_place' or 'gazetteer_district': coordinates the gazetteer gave a location named
  without any (a town's, or its district's most populous town's). Typed coordinates are never replaced.
- admin1_code is filled from the coordinates (the nearest town's province) for a location with no admin1 whose
  point is precise to its district or better.
- incident_report gains admin1_code and admin2_code beside admin1 and admin2.

Everything is filled through incidents.gazetteer.normalise as this version of the code has it. Downgrade takes the
gazetteer's coordinates away again and gives such a location back the precision its source gave (kept in its key).
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "7e3b9c1d5a20"
down_revision: str | Sequence[str] | None = "2ade7b1b8261"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRECISIONS = "'exact', 'place', 'district', 'province', 'country'"
GAZETTEER = "'gazetteer_place', 'gazetteer_district'"


def _views_of(revision_file: str):  # noqa: ANN202 - a migration module
    """The migration that last wrote the views, whose SQL this one keeps for two of them."""
    path = Path(__file__).with_name(revision_file)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PREVIOUS = "2026_12_03_d558e2b4dcd2_withdrawals_and_wounded_ranges.py"


def _incident_report() -> None:
    previous = _views_of(PREVIOUS)
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP VIEW incident_report")
    op.execute(f"""
        CREATE VIEW incident_report AS
        SELECT i.key, i.title, i.date_start, i.date_end, i.date_precision,
               l.country, l.admin1, l.admin1_code, l.admin2, l.admin2_code, l.place, l.latitude, l.longitude,
               l.geo_precision,
               {previous._perpetrators(postgres)} AS perpetrators,
               i.attack_type, i.target_type, i.weapon_type, i.suicide, i.status,
               i.killed_low, i.killed_best, i.killed_high, i.wounded_low, i.wounded_best, i.wounded_high,
               i.perpetrators_killed,
               (SELECT COUNT(DISTINCT r.source_id) FROM reports r
                 WHERE r.incident_id = i.id AND r.withdrawn_at IS NULL) AS source_count,
               (SELECT s.url FROM reports r JOIN sources s ON s.id = r.source_id
                 WHERE r.incident_id = i.id AND s.url IS NOT NULL AND r.withdrawn_at IS NULL
                 ORDER BY CASE WHEN r.reported_on IS NULL THEN 1 ELSE 0 END, r.reported_on, r.id
                 LIMIT 1) AS first_source_url,
               i.origin_dataset, i.origin_id
        FROM incidents i LEFT JOIN locations l ON l.id = i.location_id
        WHERE i.merged_into_id IS NULL AND i.withdrawn_at IS NULL
    """)


def upgrade() -> None:
    from incidents.gazetteer import normalise

    previous = _views_of(PREVIOUS)
    previous.drop_views()  # SQLite's batch mode rebuilds locations, which the views read
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admin2_code", sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f("ix_locations_admin2_code"), ["admin2_code"], unique=False)
        batch_op.drop_constraint(op.f("ck_locations_geo_precision"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_locations_geo_precision"), f"geo_precision IS NULL OR geo_precision IN ({PRECISIONS}, {GAZETTEER})")
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, country, admin1, admin2, place, latitude, longitude, geo_precision, "
                                      "admin1_code FROM locations")).all()
    changes = []
    for row in rows:
        found = normalise(row.country, row.admin1, row.admin2, row.place, row.latitude, row.longitude,
                          row.geo_precision)
        if (found.admin1_code, found.admin2_code, found.latitude, found.geo_precision) != \
                (row.admin1_code, None, row.latitude, row.geo_precision):
            changes.append({"id": row.id, "admin1_code": found.admin1_code, "admin2_code": found.admin2_code,
                            "latitude": found.latitude, "longitude": found.longitude,
                            "geo_precision": found.geo_precision})
    if changes:
        connection.execute(sa.text("UPDATE locations SET admin1_code = :admin1_code, admin2_code = :admin2_code, "
                                   "latitude = :latitude, longitude = :longitude, geo_precision = :geo_precision "
                                   "WHERE id = :id"), changes)
    previous.create_views(withdrawals=True)
    _incident_report()


def downgrade() -> None:
    previous = _views_of(PREVIOUS)
    previous.drop_views()
    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT id, key FROM locations WHERE geo_precision IN ({GAZETTEER})")).all()
    given = {"exact", "place", "district", "province", "country"}
    if rows:  # the key ends with the precision the source gave ('' for none)
        connection.execute(sa.text("UPDATE locations SET latitude = NULL, longitude = NULL, "
                                   "geo_precision = :precision WHERE id = :id"),
                           [{"id": row.id, "precision": precision if (precision := row.key.rsplit("|", 1)[-1]) in given
                             else None} for row in rows])
    # admin1_code as the revision below fills it: from admin1's spelling only, not from coordinates
    connection.execute(sa.text("UPDATE locations SET admin1_code = NULL WHERE admin1 IS NULL"))
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_locations_geo_precision"), type_="check")
        batch_op.create_check_constraint(op.f("ck_locations_geo_precision"),
                                         f"geo_precision IS NULL OR geo_precision IN ({PRECISIONS})")
        batch_op.drop_index(batch_op.f("ix_locations_admin2_code"))
        batch_op.drop_column("admin2_code")
    previous.create_views(withdrawals=True)
