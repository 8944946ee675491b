"""A confirmed scalper loses his upcoming bookings (issue 11).

When a reviewer confirms a case, every held or confirmed booking of a slot not yet begun
that carries one of the newly blocked identifiers is withdrawn: the booking becomes
WITHDRAWN (``transitions.withdraw_booking``), its slot cools for a random delay like a
cancelled one and then goes to the waitlist or a re-release, and the hospital's feed and
the channel are told, in the same transaction. Past, attended and no-show bookings are
history and stay. Services only flush; the edge commits.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.blacklist import gate as blacklist_gate
from fairslot.blacklist.gate import BlockedKeys
from fairslot.blacklist.models import Scope
from fairslot.bookings import revocation_repository as repo
from fairslot.bookings import rules, transitions
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.notifications import service as notify

BLACKLISTED = "blacklisted"

# What the channel shows the account: like the gate's refusal, it does not say which
# identifier was blocked.
_MESSAGE = (
    "This booking was withdrawn by the platform. If you believe this is a mistake, please "
    "come to the hospital's service desk in person with your ID card."
)
_MESSAGE_ZH = "该预约已被平台撤销。如有疑问，请携带身份证到医院服务台办理。"


def withdraw_blocked(
    db: Session,
    *,
    blocked: BlockedKeys,
    now: datetime,
    ctx: RequestContext,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
    reason: str = BLACKLISTED,
) -> list[Booking]:
    """Withdraw the upcoming bookings carrying one of ``blocked``'s keys; returns them."""
    carried = repo.upcoming_identifiers(
        db,
        now=now,
        patient_keys=blocked.of(Scope.PATIENT),
        phone_hashes=blocked.of(Scope.PHONE),
        account_ids=blocked.account_ids,
        payment_hashes=blocked.of(Scope.PAYMENT),
        device_keys=blocked.of(Scope.DEVICE),
        network_keys=blocked.of(Scope.NETWORK),
    )
    hit = [c.booking_id for c in carried if blocked.hit(_identifiers(c), protector=protector)]
    withdrawn: list[Booking] = []
    for booking, slot, session in repo.bookings_with_places(db, hit):
        cooling = rules.draw_cooling(
            rng=rng, min_minutes=policy.cooling_min_minutes, max_minutes=policy.cooling_max_minutes
        )
        if not transitions.withdraw_booking(
            db, booking=booking, now=now, ctx=ctx, reason=reason, cooling=cooling
        ):
            continue  # it ended meanwhile (cancelled, lapsed): nothing left to withdraw
        withdrawn.append(booking)
        payload: dict[str, Any] = {
            "session_id": session.his_session_id,
            "slot_number": slot.number,
            "date": session.session_date.isoformat(),
            "reason": reason,
        }
        notify.to_hospital(
            db,
            hospital_id=session.hospital_id,
            kind="booking_withdrawn",
            at=now,
            booking_id=booking.id,
            payload=payload,
        )
        notify.to_channel(
            db,
            channel_id=booking.channel_id,
            kind="booking_withdrawn",
            at=now,
            account_id=booking.account_id,
            booking_id=booking.id,
            payload=payload | {"message": _MESSAGE, "message_zh": _MESSAGE_ZH},
        )
    return withdrawn


def _identifiers(carried: repo.Carried) -> blacklist_gate.Identifiers:
    return blacklist_gate.Identifiers(
        patient_key=carried.patient_key,
        phone_hash=carried.phone_hash,
        account_id=carried.account_id,
        device_key=carried.device_key,
        ip_key=carried.ip_key,
        wifi_key=carried.wifi_key,
        payment_account_hash=carried.payment_account_hash,
    )
