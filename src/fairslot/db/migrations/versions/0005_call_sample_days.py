"""call sample days: one worker draws a day's follow-up sample

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 20:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fairslot.db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_sample_days",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("drawn_at", fairslot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_call_sample_days")),
    )


def downgrade() -> None:
    op.drop_table("call_sample_days")
