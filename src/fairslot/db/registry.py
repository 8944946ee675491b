"""Imports every model so that ``Base.metadata`` is complete (for Alembic and tests)."""

from fairslot.allocation import models as allocation_models
from fairslot.audit import models as audit_models
from fairslot.blacklist import models as blacklist_models
from fairslot.bookings import models as booking_models
from fairslot.channels import models as channel_models
from fairslot.db.base import Base
from fairslot.hospitals import models as hospital_models
from fairslot.ledger import models as ledger_models
from fairslot.notifications import models as notification_models
from fairslot.patients import models as patient_models
from fairslot.schedules import models as schedule_models
from fairslot.waitlist import models as waitlist_models

__all__ = [
    "Base",
    "allocation_models",
    "audit_models",
    "blacklist_models",
    "booking_models",
    "channel_models",
    "hospital_models",
    "ledger_models",
    "notification_models",
    "patient_models",
    "schedule_models",
    "waitlist_models",
]
