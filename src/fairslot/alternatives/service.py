"""Ranked alternatives to a session: for a refused hold, a lost draw, or on request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.alternatives import repository as repo
from fairslot.alternatives import rules
from fairslot.alternatives.schemas import AlternativeView
from fairslot.bookings.rules import DepartmentFacts, Limits, PatientFacts
from fairslot.errors import InvalidInput, NotFound
from fairslot.memo import Memo
from fairslot.patients.service import require_binding

MAX_LIMIT = 50
# Hospitals open at most 60 days ahead (a check constraint); one day of slack either side
# covers every zone's "today".
_HORIZON = timedelta(days=62)


def alternatives_for(
    db: Session,
    *,
    session_id: int,
    patient_id: int | None,
    now: datetime,
    channel_id: int,
    limit: int = rules.DEFAULT_LIMIT,
    account_id: int | None = None,
    limits: Limits | None = None,
    memo: AlternativesMemo | None = None,
    read: Callable[[KnownPatient], None] | None = None,
) -> list[AlternativeView]:
    """Alternatives to ``session_id`` that ``patient_id`` (if given) could book now.

    ``memo``: recall the session-level reads for a moment (a refused hold at release
    time; see ``fairslot/memo.py``). ``read``: handed the patient's facts as read for
    the ranking (the sold-out lane recalls them, ``api/sold_out_lane.py``).

    With ``account_id`` the account must be allowed to act for the patient (else 404/403),
    so a channel cannot probe a stranger's bookings through this read.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", code="invalid_limit")
    hood = neighbourhood(db, session_id=session_id, now=now, channel_id=channel_id, memo=memo)
    offers = offered(hood, now=now)
    booker = None
    if patient_id is not None:
        # Read to be recalled: over every day any neighbourhood may offer, so that the
        # facts serve the refusals of other sessions too.
        span = span_of(offers) if read is None else _horizon(now)
        known = _patient(
            db, patient_id=patient_id, account_id=account_id, channel_id=channel_id, span=span
        )
        if read is not None:
            read(known)
        booker = booker_of(known, limits=limits or Limits())
    return ranked(hood, offers, booker=booker, limit=limit)


@dataclass(frozen=True)
class KnownPatient:
    """A patient's facts as the ranking read them: their occupied days over ``span``."""

    days: repo.PatientDays
    span: tuple[date, date]


def offered(hood: Neighbourhood, *, now: datetime) -> list[Offer]:
    """The neighbourhood's sessions open for booking now (today to each hospital's
    horizon, in its zone)."""
    return [o for o in hood.offers if _within_horizon(o, now)]


def span_of(offers: list[Offer]) -> tuple[date, date]:
    """The days a ranking of ``offers`` asks about the patient (an empty range when
    there are none: nothing to look up but the patient)."""
    days = [o.candidate.session_date for o in offers]
    return (min(days), max(days)) if days else (date.max, date.min)


def covers(known: KnownPatient, span: tuple[date, date]) -> bool:
    """Whether ``known`` was read over every day of ``span``."""
    return span[0] > span[1] or (known.span[0] <= span[0] and span[1] <= known.span[1])


def ranked(
    hood: Neighbourhood,
    offers: list[Offer],
    *,
    booker: rules.Booker | None,
    limit: int = rules.DEFAULT_LIMIT,
) -> list[AlternativeView]:
    """The views of ``offers`` ranked for ``booker`` (pure)."""
    return views(ranking(hood, offers, booker=booker, limit=limit), offers)


def ranking(
    hood: Neighbourhood,
    offers: list[Offer],
    *,
    booker: rules.Booker | None,
    limit: int = rules.DEFAULT_LIMIT,
) -> list[rules.Ranked]:
    """``offers`` ranked for ``booker``, before they are views (pure)."""
    return rules.rank(
        wanted=hood.wanted,
        candidates=[o.candidate for o in offers],
        booker=booker,
        limit=limit,
    )


def views(found: list[rules.Ranked], offers: list[Offer]) -> list[AlternativeView]:
    """The views of a :func:`ranking` of ``offers`` (pure)."""
    by_id = {o.candidate.session_id: o for o in offers}
    return [_view(i, r, by_id[r.candidate.session_id]) for i, r in enumerate(found, 1)]


@dataclass(frozen=True)
class Offer:
    """One candidate session as plain values: what the ranking and the answer need."""

    candidate: rules.Candidate
    timezone: str
    days_ahead: int
    fields: dict[str, Any]  # the AlternativeView's fields but its rank, tier and reason


@dataclass(frozen=True)
class Neighbourhood:
    """The wanted session and the open sessions like it: the same for every patient."""

    wanted: rules.Wanted
    offers: tuple[Offer, ...]


AlternativesMemo = Memo[tuple[int, int], Neighbourhood]


def neighbourhood(
    db: Session,
    *,
    session_id: int,
    now: datetime,
    channel_id: int,
    memo: AlternativesMemo | None,
) -> Neighbourhood:
    """Read (or, with ``memo``, recall for its short lifetime) the session-level part.

    A recalled answer can show a ``free`` count up to the memo's lifetime old; the
    patient's own eligibility and bookings are never recalled.
    """
    if memo is None:
        return _read_neighbourhood(db, session_id=session_id, now=now, channel_id=channel_id)
    key = (session_id, channel_id)
    found = memo.get(key, now=now)
    if found is not None:
        return found
    # One read per lapsed key: the refusals that found it lapsed together wait for it
    # (measured: a burst of 128 reading it at once took 77 ms each instead of 3).
    with memo.reading(key):
        found = memo.get(key, now=now)
        if found is None:
            found = _read_neighbourhood(db, session_id=session_id, now=now, channel_id=channel_id)
            memo.put(key, found, now=now)
    return found


def _read_neighbourhood(
    db: Session, *, session_id: int, now: datetime, channel_id: int
) -> Neighbourhood:
    wanted_row = repo.released_session_row(db, session_id=session_id, now=now)
    if wanted_row is None:
        raise NotFound("No such session is open for booking.", code="session_not_found")
    rows = repo.candidate_sessions(
        db,
        now=now,
        channel_id=channel_id,
        doctor_id=wanted_row.doctor.id,
        specialty=wanted_row.department.specialty,
        title=wanted_row.doctor.title,
        hospital_id=wanted_row.hospital.id,
        grade=wanted_row.hospital.grade,
        city=wanted_row.hospital.city,
        date_from=_horizon(now)[0],
        date_to=_horizon(now)[1],
    )
    return Neighbourhood(wanted=_wanted(wanted_row), offers=tuple(_offer(r) for r in rows))


def _horizon(now: datetime) -> tuple[date, date]:
    """The days a neighbourhood's candidates are read from."""
    return (now - timedelta(days=1)).date(), (now + _HORIZON).date()


def _wanted(row: repo.SessionRow) -> rules.Wanted:
    return rules.Wanted(
        session_id=row.session.id,
        hospital_id=row.hospital.id,
        grade=row.hospital.grade,
        city=row.hospital.city,
        specialty=row.department.specialty,
        doctor_id=row.doctor.id,
        title=row.doctor.title,
        session_date=row.session.session_date,
    )


def _candidate(row: repo.SessionRow) -> rules.Candidate:
    return rules.Candidate(
        session_id=row.session.id,
        hospital_id=row.hospital.id,
        grade=row.hospital.grade,
        city=row.hospital.city,
        department=DepartmentFacts(
            department_id=row.department.id,
            sex_restriction=row.department.sex_restriction,
            min_age=row.department.min_age,
            max_age=row.department.max_age,
        ),
        specialty=row.department.specialty,
        doctor_id=row.doctor.id,
        title=row.doctor.title,
        session_date=row.session.session_date,
        starts_at=row.session.starts_at,
        free=row.free,
    )


def _within_horizon(offer: Offer, now: datetime) -> bool:
    """Today to ``days_ahead`` days ahead, in the session's hospital's zone."""
    today = now.astimezone(ZoneInfo(offer.timezone)).date()
    day = offer.candidate.session_date
    return today <= day <= today + timedelta(days=offer.days_ahead)


def _patient(
    db: Session,
    *,
    patient_id: int,
    account_id: int | None,
    channel_id: int,
    span: tuple[date, date],
) -> KnownPatient:
    def lookup() -> repo.PatientDays | None:
        return repo.patient_with_days(
            db,
            patient_id=patient_id,
            account_id=account_id,
            channel_id=channel_id,
            date_from=span[0],
            date_to=span[1],
        )

    found = lookup()
    if found is None and account_id is not None:
        # Not bound, or not this channel's account: the binding check says which (404 or
        # 403). Should it pass, the binding was made a moment ago: look again.
        require_binding(db, account_id=account_id, patient_id=patient_id, channel_id=channel_id)
        found = lookup()
    if found is None:
        raise NotFound("No such patient.", code="patient_not_found")
    return KnownPatient(days=found, span=span)


def booker_of(known: KnownPatient, *, limits: Limits) -> rules.Booker:
    """The ranking's patient: their facts and their occupied department-days (pure)."""
    booked: dict[date, list[int]] = defaultdict(list)
    for day, department_id in known.days.occupied:
        booked[day].append(department_id)
    return rules.Booker(
        patient=PatientFacts(sex=known.days.sex, birth_date=known.days.birth_date),
        booked_departments=booked,
        limits=limits,
    )


def _offer(row: repo.SessionRow) -> Offer:
    tz = ZoneInfo(row.hospital.timezone)
    return Offer(
        candidate=_candidate(row),
        timezone=row.hospital.timezone,
        days_ahead=row.hospital.days_ahead,
        fields={
            "session_id": row.session.id,
            "hospital_id": row.hospital.id,
            "hospital_name": row.hospital.name,
            "department_id": row.department.id,
            "department_name": row.department.name,
            "doctor_id": row.doctor.id,
            "doctor_name": row.doctor.name,
            "doctor_title": row.doctor.title,
            "session_date": row.session.session_date,
            "period": row.session.period,
            "starts_at": row.session.starts_at.astimezone(tz),
            "ends_at": row.session.ends_at.astimezone(tz),
            "fee": row.session.fee,
            "free": row.free,
        },
    )


def _view(position: int, ranked: rules.Ranked, offer: Offer) -> AlternativeView:
    return AlternativeView(
        rank=position,
        tier=int(ranked.tier),
        reason=ranked.reason,
        reason_zh=ranked.reason_zh,
        **offer.fields,
    )
