"""indexes for scale: request records by time and by patient, sessions by release time

The risk batch, the retention purge and the metrics scan request records by time; the
case page reads a patient's requests; the worker and the release-fill figures find
sessions by their release instant. Without these they read whole tables at city scale.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_request_records_at", "request_records", ["at"], unique=False)
    op.create_index(
        "ix_request_records_patient_at", "request_records", ["patient_key", "at"], unique=False
    )
    op.create_index(
        "ix_clinic_sessions_release_at", "clinic_sessions", ["release_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_clinic_sessions_release_at", table_name="clinic_sessions")
    op.drop_index("ix_request_records_patient_at", table_name="request_records")
    op.drop_index("ix_request_records_at", table_name="request_records")
