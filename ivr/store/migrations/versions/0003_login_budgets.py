"""Login budgets with growing delays instead of a lock per account; a session version per
operator, raised at logout.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_budgets",
        sa.Column("key", sa.String(116), primary_key=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_try", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("operators") as batch:  # SQLite: the table is copied
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_column("session_version")
    op.drop_table("login_budgets")
