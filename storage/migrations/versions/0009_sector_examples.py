"""sector examples: operators' transfers and the sectors of closed reports, masked, to retrain on

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sector_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sector_id", sa.String(length=32), nullable=False),
        sa.Column("guessed_sector", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_sector_examples_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sector_examples")),
        sa.UniqueConstraint("report_id", name=op.f("uq_sector_examples_report_id")),
    )
    op.create_index(op.f("ix_sector_examples_citizen_id"), "sector_examples", ["citizen_id"])
    op.create_index(op.f("ix_sector_examples_created_at"), "sector_examples", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sector_examples_created_at"), table_name="sector_examples")
    op.drop_index(op.f("ix_sector_examples_citizen_id"), table_name="sector_examples")
    op.drop_table("sector_examples")
