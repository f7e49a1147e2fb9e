"""filed sector: the sector a report was filed under (the citizen's pick or confirmed guess), kept
beside operators' labels so the bench can show how often citizens chose right

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("filed_sector", sa.String(length=32), nullable=True))
    with op.batch_alter_table("sector_examples") as batch:
        batch.add_column(sa.Column("citizen_sector", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sector_examples") as batch:
        batch.drop_column("citizen_sector")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("filed_sector")
