"""admin1 codes: locations.admin1_code, the ISO 3166-2 code of admin1 by any spelling the gazetteer knows

Revision ID: 2ade7b1b8261
Revises: d558e2b4dcd2
Create Date: 2026-12-03 11:30:00

The column is filled for the locations already stored, one UPDATE per distinct (country, admin1), through
incidents.gazetteer as this version of the code has it; admin1 itself is left as the source gave it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2ade7b1b8261"
down_revision: str | Sequence[str] | None = "d558e2b4dcd2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from incidents.gazetteer import admin1_code

    op.add_column("locations", sa.Column("admin1_code", sa.String(length=10), nullable=True))
    op.create_index(op.f("ix_locations_admin1_code"), "locations", ["admin1_code"], unique=False)
    connection = op.get_bind()
    pairs = connection.execute(sa.text(
        "SELECT DISTINCT country, admin1 FROM locations WHERE admin1 IS NOT NULL")).all()
    for country, admin1 in pairs:
        code = admin1_code(country, admin1)
        if code is not None:
            connection.execute(sa.text("UPDATE locations SET admin1_code = :code WHERE country = :country "
                                       "AND admin1 = :admin1"), {"code": code, "country": country, "admin1": admin1})


def downgrade() -> None:
    op.drop_index(op.f("ix_locations_admin1_code"), table_name="locations")
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): no table rebuild, so the views that read locations stay.
    op.execute("ALTER TABLE locations DROP COLUMN admin1_code")
