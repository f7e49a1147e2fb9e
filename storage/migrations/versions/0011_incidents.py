"""incidents: repeated reports grouped under a lead report, the parsed place of each report for the
duplicate suggestion, and the spike detector's alerts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("lead_report_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("street_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("house", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("settlement_key", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("geo_cell", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_report_incident", "incidents", ["incident_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_reports_incident_id", ["incident_id"])
        batch.create_index("ix_reports_place", ["sector_id", "municipality_id", "status", "created_at"])
        batch.create_index(
            "ix_reports_street", ["sector_id", "municipality_id", "street_key", "status", "created_at"]
        )
        batch.create_index("ix_reports_cell", ["sector_id", "geo_cell", "status", "created_at"])
    op.create_table(
        "spike_alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("cluster", sa.String(length=300), nullable=False),
        sa.Column("sector_id", sa.String(length=32), nullable=False),
        sa.Column("municipality_id", sa.String(length=32), nullable=False),
        sa.Column("opened_hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("report_ids", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("cluster", "opened_hour", name="uq_spike_cluster_hour"),
    )
    op.create_index("ix_spike_alerts_cluster", "spike_alerts", ["cluster"])


def downgrade() -> None:
    op.drop_index("ix_spike_alerts_cluster", table_name="spike_alerts")
    op.drop_table("spike_alerts")
    with op.batch_alter_table("reports") as batch:
        batch.drop_index("ix_reports_cell")
        batch.drop_index("ix_reports_street")
        batch.drop_index("ix_reports_place")
        batch.drop_index("ix_reports_incident_id")
        batch.drop_constraint("fk_report_incident", type_="foreignkey")
        for column in ("incident_id", "geo_cell", "settlement_key", "house", "street_key"):
            batch.drop_column(column)
    op.drop_table("incidents")
