"""Imports every model so that ``Base.metadata`` is complete (for Alembic and tests)."""

from fairslot.allocation import models as allocation_models
from fairslot.audit import models as audit_models
from fairslot.blacklist import models as blacklist_models
from fairslot.bookings import models as booking_models
from fairslot.cases import models as case_models
from fairslot.channels import models as channel_models
from fairslot.db.base import Base
from fairslot.followup import models as followup_models
from fairslot.hospitals import models as hospital_models
from fairslot.ledger import models as ledger_models
from fairslot.notifications import models as notification_models
from fairslot.patients import models as patient_models
from fairslot.payments import models as payment_models
from fairslot.risk import models as risk_models
from fairslot.schedules import models as schedule_models
from fairslot.signin import models as signin_models
from fairslot.staff import models as staff_models
from fairslot.waitlist import models as waitlist_models

__all__ = [
    "Base",
    "allocation_models",
    "audit_models",
    "blacklist_models",
    "booking_models",
    "case_models",
    "channel_models",
    "followup_models",
    "hospital_models",
    "ledger_models",
    "notification_models",
    "patient_models",
    "payment_models",
    "risk_models",
    "schedule_models",
    "signin_models",
    "staff_models",
    "waitlist_models",
]
