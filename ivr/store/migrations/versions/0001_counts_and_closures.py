"""Hourly and daily counts, live closures and their log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _counts(name: str, period: sa.Column) -> None:
    op.create_table(
        name, period,
        sa.Column("event", sa.String(32), primary_key=True),
        sa.Column("dimension", sa.String(80), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
    )


def upgrade() -> None:
    _counts("counts_hourly", sa.Column("hour", sa.DateTime(), primary_key=True))
    _counts("counts_daily", sa.Column("day", sa.Date(), primary_key=True))
    op.create_table(
        "live_closures",
        sa.Column("line_id", sa.String(64), primary_key=True),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("closed_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "closure_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("line_id", sa.String(64), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    for name in ("closure_log", "live_closures", "counts_daily", "counts_hourly"):
        op.drop_table(name)
