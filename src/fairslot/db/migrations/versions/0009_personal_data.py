"""personal data: keyed hashes and masked labels for request context, encrypted names

The end user's device id, IP address and Wi-Fi id were stored in the clear on bookings, the
slot ledger, draw intents, waitlist entries and request records. The columns are renamed
(``device_id`` → ``device_key``, ``ip`` → ``ip_key``, ``wifi_id`` → ``wifi_key``), a masked
``ip_label`` (203.0.113.x) is added, and every stored value is replaced by its keyed hash
under the purposes the blacklist uses (``fairslot/context.py``), with the configured hash
key (``FAIRSLOT_HASH_KEY``): the same key the server hashes new requests with, or the new
keys would not match the old ones.

Patients' names were stored in the clear: they are encrypted with the configured data key
(``FAIRSLOT_DATA_KEY``) into ``name_encrypted``, with a masked ``name_masked`` (张*明)
for staff screens, and the clear column is dropped.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context as env
from alembic import op

from fairslot.config import load_settings, make_protector
from fairslot.context import device_key, mask_ip, network_key
from fairslot.crypto import Protector
from fairslot.db.append_only import drop_append_only, make_append_only
from fairslot.patients.identity import mask_name

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("bookings", "slot_events", "intents", "waitlist_entries", "request_records")
RENAMES = (("device_id", "device_key"), ("ip", "ip_key"), ("wifi_id", "wifi_key"))


def _protector() -> Protector:
    """The caller's protector (tests pass theirs), else the one the settings describe."""
    given = env.config.attributes.get("protector")
    if isinstance(given, Protector):
        return given
    return make_protector(load_settings())


def upgrade() -> None:
    protector = _protector()
    # slot_events is append-only by trigger: lifted for the conversion, then restored.
    drop_append_only("slot_events")
    # Plain ALTER TABLE … RENAME COLUMN (SQLite 3.25+, PostgreSQL): no table copy, so the
    # triggers and indexes stay with their columns.
    for table in TABLES:
        for old, new in RENAMES:
            op.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
        op.add_column(table, sa.Column("ip_label", sa.String(length=64), nullable=True))
    op.drop_index("ix_bookings_device_id", table_name="bookings")
    op.create_index(op.f("ix_bookings_device_key"), "bookings", ["device_key"], unique=False)

    bind = op.get_bind()
    for name in TABLES:
        rows = sa.table(
            name,
            sa.column("device_key", sa.String),
            sa.column("ip_key", sa.String),
            sa.column("ip_label", sa.String),
            sa.column("wifi_key", sa.String),
        )
        for raw in _distinct(bind, rows.c.device_key):
            bind.execute(
                rows.update()
                .where(rows.c.device_key == raw)
                .values(device_key=device_key(raw, protector=protector))
            )
        for raw in _distinct(bind, rows.c.wifi_key):
            bind.execute(
                rows.update()
                .where(rows.c.wifi_key == raw)
                .values(wifi_key=network_key(raw, protector=protector))
            )
        for raw in _distinct(bind, rows.c.ip_key):
            bind.execute(
                rows.update()
                .where(rows.c.ip_key == raw)
                .values(ip_key=network_key(raw, protector=protector), ip_label=mask_ip(raw))
            )
    make_append_only("slot_events")
    _encrypt_names(bind, protector)


def _encrypt_names(bind: sa.Connection, protector: Protector) -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("name_encrypted", sa.String(length=512), nullable=True))
        batch.add_column(sa.Column("name_masked", sa.String(length=100), nullable=True))
    patients = sa.table(
        "patients",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_encrypted", sa.String),
        sa.column("name_masked", sa.String),
    )
    for patient_id, name in bind.execute(sa.select(patients.c.id, patients.c.name)).all():
        bind.execute(
            patients.update()
            .where(patients.c.id == patient_id)
            .values(name_encrypted=protector.encrypt(name), name_masked=mask_name(name))
        )
    with op.batch_alter_table("patients") as batch:
        batch.alter_column("name_encrypted", existing_type=sa.String(length=512), nullable=False)
        batch.alter_column("name_masked", existing_type=sa.String(length=100), nullable=False)
        batch.drop_column("name")


def _distinct(bind: sa.Connection, column: sa.ColumnClause[str]) -> list[str]:
    """The raw values of a column, once each: one UPDATE per value, not per row."""
    return list(bind.scalars(sa.select(column).where(column.is_not(None)).distinct()))


def downgrade() -> None:
    # The raw request identifiers are gone for good (that is the point): a downgrade
    # restores the columns' names and leaves the keys in them. Names are decrypted back.
    _decrypt_names(op.get_bind(), _protector())
    drop_append_only("slot_events")
    op.drop_index(op.f("ix_bookings_device_key"), table_name="bookings")
    op.create_index("ix_bookings_device_id", "bookings", ["device_key"], unique=False)
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("ip_label")
    for table in TABLES:
        for old, new in RENAMES:
            op.execute(f"ALTER TABLE {table} RENAME COLUMN {new} TO {old}")
    make_append_only("slot_events")


def _decrypt_names(bind: sa.Connection, protector: Protector) -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("name", sa.String(length=100), nullable=True))
    patients = sa.table(
        "patients",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_encrypted", sa.String),
    )
    for patient_id, token in bind.execute(
        sa.select(patients.c.id, patients.c.name_encrypted)
    ).all():
        bind.execute(
            patients.update()
            .where(patients.c.id == patient_id)
            .values(name=protector.decrypt(token))
        )
    with op.batch_alter_table("patients") as batch:
        batch.alter_column("name", existing_type=sa.String(length=100), nullable=False)
        batch.drop_column("name_masked")
        batch.drop_column("name_encrypted")
