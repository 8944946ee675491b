"""patient notifications: an account's own feed, and its read mark

The patient pages' notifications (draw results, waitlist bookings, withdrawals): an index
for one account's feed on a channel, and each account's read mark (the unread count in the
pages' header). Entering draws and waitlists from the pages needs no new table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fairslot.db.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notifications_account_feed",
        "notifications",
        ["audience", "channel_id", "account_id", "id"],
        unique=False,
    )
    op.create_table(
        "notification_reads",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("last_read_id", sa.Integer(), nullable=False),
        sa.Column("read_at", fairslot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_notification_reads_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_notification_reads_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("account_id", "channel_id", name=op.f("pk_notification_reads")),
    )


def downgrade() -> None:
    op.drop_table("notification_reads")
    op.drop_index("ix_notifications_account_feed", table_name="notifications")
