"""not duplicates: an analyst's judgement that two records are two attacks, which `duplicates` respects

Revision ID: f7161d61ac83
Revises: 648d59eab669
Create Date: 2026-12-03 08:14:02.726791

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f7161d61ac83"
down_revision: str | Sequence[str] | None = "648d59eab669"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "not_duplicates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_a_id", sa.Integer(), nullable=False),
        sa.Column("incident_b_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("incident_a_id < incident_b_id", name=op.f("ck_not_duplicates_pair_ordered")),
        sa.ForeignKeyConstraint(["incident_a_id"], ["incidents.id"],
                                name=op.f("fk_not_duplicates_incident_a_id_incidents"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["incident_b_id"], ["incidents.id"],
                                name=op.f("fk_not_duplicates_incident_b_id_incidents"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_not_duplicates")),
        sa.UniqueConstraint("incident_a_id", "incident_b_id",
                            name=op.f("uq_not_duplicates_incident_a_id_incident_b_id")),
    )
    op.create_index(op.f("ix_not_duplicates_incident_a_id"), "not_duplicates", ["incident_a_id"], unique=False)
    op.create_index(op.f("ix_not_duplicates_incident_b_id"), "not_duplicates", ["incident_b_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_not_duplicates_incident_b_id"), table_name="not_duplicates")
    op.drop_index(op.f("ix_not_duplicates_incident_a_id"), table_name="not_duplicates")
    op.drop_table("not_duplicates")
