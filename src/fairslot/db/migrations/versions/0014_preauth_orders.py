"""pre-authorisation orders: a draw entry's or a waitlist place's fee pre-authorised at a
configured payment provider, settled by its signed callback; their append-only ledger

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fairslot.db.base
from fairslot.db.append_only import drop_append_only, make_append_only

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preauth_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "entered",
                "released",
                "cancelled",
                name="preauth_order_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("payer_reference", sa.String(length=64), nullable=True),
        sa.Column("provider_reference", sa.String(length=128), nullable=True),
        sa.Column("entry_id", sa.String(length=36), nullable=True),
        sa.Column("refusal", sa.String(length=64), nullable=True),
        sa.Column("created_at", fairslot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", fairslot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_preauth_orders_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_preauth_orders_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["clinic_sessions.id"],
            name=op.f("fk_preauth_orders_session_id_clinic_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_preauth_orders_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preauth_orders")),
    )
    op.create_index(
        op.f("ix_preauth_orders_account_id"), "preauth_orders", ["account_id"], unique=False
    )
    op.create_table(
        "preauth_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", fairslot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["preauth_orders.id"],
            name=op.f("fk_preauth_events_order_id_preauth_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preauth_events")),
    )
    op.create_index(
        op.f("ix_preauth_events_order_id"), "preauth_events", ["order_id"], unique=False
    )
    make_append_only("preauth_events")


def downgrade() -> None:
    drop_append_only("preauth_events")
    op.drop_index(op.f("ix_preauth_events_order_id"), table_name="preauth_events")
    op.drop_table("preauth_events")
    op.drop_index(op.f("ix_preauth_orders_account_id"), table_name="preauth_orders")
    op.drop_table("preauth_orders")
