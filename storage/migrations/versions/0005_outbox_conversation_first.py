"""outbox: index for claiming conversation messages ahead of notice rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The worker asks for due rows with no notice first; with 100,000 notice rows pending, an index
    # that ends in next_attempt_at finds the few conversation rows without visiting the rest.
    op.drop_index("ix_outbox_notice", table_name="outbox")
    op.create_index("ix_outbox_notice", "outbox", ["notice_id", "status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_notice", table_name="outbox")
    op.create_index("ix_outbox_notice", "outbox", ["notice_id", "status"], unique=False)
