"""inbound updates: stored before they are acknowledged, processed from the table (replaces processed_updates)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("platform", sa.String(length=8), nullable=False),
        sa.Column("conversation", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("album", sa.String(length=96), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_updates")),
        sa.UniqueConstraint("key", name=op.f("uq_inbound_updates_key")),
    )
    op.create_index("ix_inbound_updates_due", "inbound_updates", ["status", "next_attempt_at"])
    op.create_index(
        "ix_inbound_updates_conversation", "inbound_updates", ["conversation", "status", "seq"]
    )
    op.create_index("ix_inbound_updates_album", "inbound_updates", ["album"])
    op.create_index("ix_inbound_updates_finished", "inbound_updates", ["finished_at"])
    # The ids already seen stay seen: a redelivery of one of them must still be dropped.
    op.execute(
        "INSERT INTO inbound_updates (key, platform, conversation, seq, payload, status, attempts,"
        " next_attempt_at, received_at, finished_at)"
        " SELECT key, substr(key, 1, 2), key, 0, '{}', 'done', 1, seen_at, seen_at, seen_at"
        " FROM processed_updates"
    )
    op.drop_table("processed_updates")


def downgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed_updates")),
    )
    op.execute(
        "INSERT INTO processed_updates (key, seen_at)"
        " SELECT key, received_at FROM inbound_updates WHERE status = 'done'"
    )
    op.drop_index("ix_inbound_updates_finished", table_name="inbound_updates")
    op.drop_index("ix_inbound_updates_album", table_name="inbound_updates")
    op.drop_index("ix_inbound_updates_conversation", table_name="inbound_updates")
    op.drop_index("ix_inbound_updates_due", table_name="inbound_updates")
    op.drop_table("inbound_updates")
