"""Dead lines: per line, the dials in a row that ended without a talk.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_dials",
        sa.Column("line_id", sa.String(64), primary_key=True),
        sa.Column("unanswered_in_a_row", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("line_dials")
