"""dataset releases: release labels, full releases and their scope, withdrawals by import, conflicts

Revision ID: b41c7e2d9f10
Revises: 7e3b9c1d5a20
Create Date: 2026-12-03 19:30:00

- imports.dataset, imports.release: the dataset a GTD/UCDP/ACLED file is of and the label the user gave its
  release (`import --release "GED 25.1"`); `incidents releases` lists them.
- imports.full_release, imports.scope: `--full-release` and the countries and years the file covers; the run
  withdraws the records of that scope the file no longer holds.
- imports.withdrawn, restored, conflicts: what a run withdrew, brought back, and left to an analyst.
- incidents.import_id: the run that inserted a record, so `incidents diff` knows what a release added.
- conflicts: a field an analyst changed that a later release changed too; the analyst's value stays.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b41c7e2d9f10"
down_revision: str | Sequence[str] | None = "7e3b9c1d5a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.add_column(sa.Column("dataset", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("release", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("full_release", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("scope", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("withdrawn", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("restored", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("conflicts", sa.Integer(), nullable=False, server_default="0"))
        batch.create_check_constraint(
            "release_counts", "(withdrawn IS NULL OR withdrawn >= 0) AND (restored IS NULL OR restored >= 0) AND "
                              "(conflicts IS NULL OR conflicts >= 0)")
    # The defaults filled the rows already there; the model sets every value itself from now on.
    with op.batch_alter_table("imports") as batch:
        for name in ("full_release", "withdrawn", "restored", "conflicts"):
            batch.alter_column(name, server_default=None)
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("import_id", sa.Integer(), nullable=True))
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("analyst_value", sa.Text(), nullable=True),
        sa.Column("dataset_old", sa.Text(), nullable=True),
        sa.Column("dataset_value", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_by", sa.String(length=100), nullable=True),
        sa.Column("settled_how", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("settled_how IS NULL OR settled_how IN ('kept', 'took')",
                           name=op.f("ck_conflicts_settled_how")),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_conflicts_import_id_imports")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_conflicts_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflicts")),
    )
    op.create_index(op.f("ix_conflicts_import_id"), "conflicts", ["import_id"], unique=False)
    op.create_index(op.f("ix_conflicts_incident_id"), "conflicts", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_conflicts_incident_id"), table_name="conflicts")
    op.drop_index(op.f("ix_conflicts_import_id"), table_name="conflicts")
    op.drop_table("conflicts")
    # Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of incidents would break the views.
    op.execute("ALTER TABLE incidents DROP COLUMN import_id")
    with op.batch_alter_table("imports") as batch:
        batch.drop_constraint(op.f("ck_imports_release_counts"), type_="check")
        for name in ("conflicts", "restored", "withdrawn", "scope", "full_release", "release", "dataset"):
            batch.drop_column(name)
