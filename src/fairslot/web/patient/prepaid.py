"""The first steps a patient page takes before it registers a chance that costs a fee (a
draw entry, a waitlist place): the session's fee pre-authorised, the request's record
started with the payer's keyed account, and the real-time gate passed. Draw and waitlist
share them so both refuse, record and gate in the same order as the channel API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session

from fairslot.api.deps import gate
from fairslot.audit.service import PendingRecord
from fairslot.bootstrap import Platform
from fairslot.entries import service as entries
from fairslot.entries.schemas import SessionCard
from fairslot.payments.preauth import Preauthorisation, preauthorise
from fairslot.web.patient.deps import PatientUser
from fairslot.web.payments import payment_provider


@dataclass(frozen=True)
class Prepaid:
    """What the use case goes on with once the fee is held and the gate let it through."""

    now: datetime
    card: SessionCard
    pre: Preauthorisation
    pending: PendingRecord


def prepay_and_gate(
    request: Request,
    user: PatientUser,
    db: Session,
    platform: Platform,
    *,
    action: str,
    session_id: int,
    patient_id: int,
    extra: dict[str, str] | None = None,
) -> Prepaid:
    """Pre-authorise the session's fee, start the request's record, and pass the gate."""
    now = platform.clock.now()
    card = entries.session_card(db, session_id=session_id)
    # Refused (409) with a provider that cannot pre-authorise: no chance without money.
    pre = preauthorise(
        provider=payment_provider(platform), account_id=user.account_id, amount=card.fee
    )
    request.state.audit = pending = PendingRecord(
        action=action,
        at=now,
        ctx=user.ctx,
        account_id=user.account_id,
        payment_account_hash=platform.protector.keyed_hash(
            pre.payment_account, purpose="payment_account"
        ),
        extra=dict(extra or {}),
    )
    gate(db, platform, user.ctx, record=pending, patient_id=patient_id)
    return Prepaid(now=now, card=card, pre=pre, pending=pending)
