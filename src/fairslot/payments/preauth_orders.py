"""Pre-authorising a draw entry's or a waitlist place's fee at a configured provider
(``FAIRSLOT_PAYMENT_PROVIDER=http``): a redirect, and a signed callback that makes the
entry — as paying for a hold does (``service.py``), with the same guarantees.

1. ``start(db, …)`` opens a :class:`PreauthOrder` (whom, which session, the request's keyed
   identifiers) and gives the provider's address to send the patient to
   (``HttpProvider.preauth_redirect_url``: ``action=preauthorise``, signed). The gate has
   already let the request through (``web/patient/prepaid.py``).
2. The provider posts its signed callback (``/pay/preauth/callback/http``): ``outcome``
   ``authorised`` (``payer``: the payer's account; ``trade_no``: the provider's reference of
   the pre-authorisation) or ``cancelled``. ``settle(db, …)`` moves the order out of
   ``pending`` by one compare-and-set, so a repeated or concurrent callback makes the entry
   once and is answered with what the first one did; an authorised order makes the entry
   through the channel API's use case (``allocation/service.py::register_intent``,
   ``waitlist/service.py::join``) with the provider's payer and reference, in the same
   transaction. Should the entry be refused by then (the window closed, a rule, a blocked
   payer), the order is ``released``: the answer tells the provider to release the funds,
   and the patient's page says why. Nothing is ever taken here: a draw or the waitlist
   placement takes the pre-authorised fee only when it books (``confirm_preauthorised``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy.orm import Session

from fairslot.allocation import service as allocation
from fairslot.blacklist import gate as blacklist
from fairslot.bookings.policy import BookingPolicy
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.errors import DomainError
from fairslot.payments import repository as repo
from fairslot.payments.callback_checks import answered_order
from fairslot.payments.errors import PaymentOrderNotFound
from fairslot.payments.models import PreauthEvent, PreauthOrder
from fairslot.payments.providers import Callback, HttpProvider
from fairslot.payments.states import PreauthStatus, can_move_preauth
from fairslot.waitlist import service as waitlist

Purpose = Literal["draw", "waitlist"]
# The request's identifiers an entry records (keyed hashes and the masked address only).
CONTEXT_FIELDS = ("device_key", "ip_key", "ip_label", "wifi_key", "user_agent")


@dataclass(frozen=True)
class PreauthCheckout:
    order_id: str
    redirect_url: str


@dataclass(frozen=True)
class PreauthSettlement:
    order_id: str
    status: PreauthStatus
    purpose: str
    entry_id: str | None
    refusal: str | None
    first: bool  # False: a repeated callback, answered with what the first one did


def return_path(order_id: str) -> str:
    """The patient page the provider sends the patient back to (``web/patient/draw.py``)."""
    return f"/preauth/{order_id}"


def start(
    db: Session,
    *,
    purpose: Purpose,
    account_id: int,
    patient_id: int,
    session_id: int,
    amount: Decimal,
    ctx: RequestContext,
    provider: HttpProvider,
    now: datetime,
) -> PreauthCheckout:
    order = repo.add_preauth(
        db,
        PreauthOrder(
            purpose=purpose,
            account_id=account_id,
            patient_id=patient_id,
            session_id=session_id,
            channel_id=ctx.channel_id or 0,
            provider=provider.name,
            amount=amount,
            status=PreauthStatus.PENDING,
            version=0,
            context={
                name: getattr(ctx, name)
                for name in CONTEXT_FIELDS
                if getattr(ctx, name) is not None
            },
            created_at=now,
        ),
    )
    repo.add_preauth_event(
        db,
        PreauthEvent(
            order_id=order.id,
            kind="opened",
            at=now,
            actor=f"account:{account_id}",
            data={"purpose": purpose, "session_id": session_id, "amount": str(amount)},
        ),
    )
    return PreauthCheckout(
        order_id=order.id,
        redirect_url=provider.preauth_redirect_url(
            order_id=order.id, amount=amount, return_url=return_path(order.id)
        ),
    )


def settle(
    db: Session,
    *,
    fields: dict[str, str],
    provider: HttpProvider,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
) -> PreauthSettlement:
    """Settle a pre-authorisation from its provider's signed callback (see the module)."""
    callback = provider.read_preauth_callback(fields)  # SignatureInvalid unless the provider's
    order = answered_order(
        repo.get_preauth(db, callback.order_id),
        callback=callback,
        provider=provider.name,
        missing="No pre-authorisation order has this id.",
    )
    if order.status != PreauthStatus.PENDING:
        return _answer_again(db, order=order)
    if callback.outcome == "cancelled":
        return _move(db, order=order, callback=callback, target=PreauthStatus.CANCELLED, now=now)
    payer_hash = protector.keyed_hash(callback.payer.strip(), purpose="payment_account")
    ctx = RequestContext(
        actor=f"payment:{order.provider}",
        channel_id=order.channel_id,
        account_id=order.account_id,
        payment_account_hash=payer_hash,
        **{name: order.context.get(name) for name in CONTEXT_FIELDS},
    )
    # The entry in a savepoint: a refusal undoes the entry's work, not the order's release.
    try:
        with db.begin_nested():
            blacklist.check(
                db,
                ids=blacklist.Identifiers(
                    account_id=order.account_id, payment_account_hash=payer_hash
                ),
                now=now,
                protector=protector,
            )
            entry_id = _enter(
                db,
                order=order,
                callback=callback,
                ctx=ctx,
                now=now,
                policy=policy,
                rng=rng,
                protector=protector,
            )
    except DomainError as refused:
        return _move(
            db,
            order=order,
            callback=callback,
            target=PreauthStatus.RELEASED,
            now=now,
            refusal=refused.code,
        )
    return _move(
        db, order=order, callback=callback, target=PreauthStatus.ENTERED, now=now, entry_id=entry_id
    )


def _enter(
    db: Session,
    *,
    order: PreauthOrder,
    callback: Callback,
    ctx: RequestContext,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
) -> str:
    """The entry the pre-authorisation pays for, through the channel API's use case."""
    if order.purpose == "waitlist":
        entry = waitlist.join(
            db,
            account_id=order.account_id,
            patient_id=order.patient_id,
            session_id=order.session_id,
            payment_account=callback.payer,
            payment_reference=callback.trade_no,
            now=now,
            ctx=ctx,
            policy=policy,
            rng=rng,
            protector=protector,
        )
        return entry.id
    intent, _ = allocation.register_intent(
        db,
        account_id=order.account_id,
        patient_id=order.patient_id,
        target=allocation.IntentTarget(session_id=order.session_id),
        payment_account=callback.payer,
        payment_reference=callback.trade_no,
        now=now,
        ctx=ctx,
        policy=policy,
        protector=protector,
    )
    return intent.id


def _move(
    db: Session,
    *,
    order: PreauthOrder,
    callback: Callback,
    target: PreauthStatus,
    now: datetime,
    entry_id: str | None = None,
    refusal: str | None = None,
) -> PreauthSettlement:
    assert can_move_preauth(PreauthStatus.PENDING, target), target
    values: dict[str, object] = {
        "payer_reference": callback.payer[:64],
        "provider_reference": callback.trade_no[:128],
        "entry_id": entry_id,
        "refusal": refusal,
        "settled_at": now,
        # the request's context was kept only to make the entry with it: gone once settled
        "context": {},
    }
    if not repo.move_preauth(
        db, order=order, expected=PreauthStatus.PENDING, target=target, values=values
    ):
        # Another callback settled it first (its entry, if any, is the one that stands;
        # this transaction's own entry attempt answered the existing one, or is undone
        # with the caller's rollback on a lost race).
        return _answer_again(db, order=order)
    data: dict[str, object] = {"trade_no": values["provider_reference"]}
    if entry_id:
        data["entry_id"] = entry_id
    if refusal:
        data["reason"] = refusal
    repo.add_preauth_event(
        db,
        PreauthEvent(
            order_id=order.id,
            kind=target.value,
            at=now,
            actor=f"payment:{order.provider}",
            data=data,
        ),
    )
    return _settlement(order, first=True)


def _answer_again(db: Session, *, order: PreauthOrder) -> PreauthSettlement:
    current = repo.get_preauth(db, order.id, fresh=True)
    assert current is not None
    return _settlement(current, first=False)


def _settlement(order: PreauthOrder, *, first: bool) -> PreauthSettlement:
    return PreauthSettlement(
        order_id=order.id,
        status=order.status,
        purpose=order.purpose,
        entry_id=order.entry_id,
        refusal=order.refusal,
        first=first,
    )


def get_preauth(db: Session, *, order_id: str, account_id: int) -> PreauthOrder:
    """The account's own pre-authorisation order (another's is not found)."""
    order = repo.get_preauth(db, order_id)
    if order is None or order.account_id != account_id:
        raise PaymentOrderNotFound("No pre-authorisation order has this id.")
    return order


def forget_stale_context(db: Session, *, before: datetime) -> int:
    """Retention (``fairslot privacy purge``, daily in the worker): an order opened before
    ``before`` and never called back loses its request's context; how many did."""
    return repo.strip_preauth_context(db, before=before)
