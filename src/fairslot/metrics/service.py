"""The quality metrics of the Tulip report (issue 10): load the facts of a period, hand
them to the pure figures (``metrics/rules.py``), and audit a reading by staff. Reads only.

Days are local dates in one zone for the whole report (its per-hospital rows must share
one calendar); the adapters pass the platform's default zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.channels.errors import ChannelNotFound
from fairslot.crypto import Protector
from fairslot.errors import InvalidInput
from fairslot.hospitals.errors import HospitalNotFound
from fairslot.metrics import repository as repo
from fairslot.metrics import rules
from fairslot.metrics.facts import DAY, MAX_DAYS, Period, Scope, local_day
from fairslot.metrics.loading import load_facts
from fairslot.metrics.schemas import DayFigures, QualityFigures, QualityReport, ScopeFigures
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor

DEFAULT_DAYS = 30


def period_or_default(
    *, now: datetime, tz: str, date_from: date | None = None, date_to: date | None = None
) -> tuple[date, date]:
    """The dates asked for, the missing ones filled in: ``date_to`` yesterday (the last
    local day that has ended), ``date_from`` ``DEFAULT_DAYS`` days ending with ``date_to``."""
    last = date_to or local_day(now, ZoneInfo(tz)) - DAY
    return date_from or last - (DEFAULT_DAYS - 1) * DAY, last


def quality(
    db: Session,
    *,
    date_from: date,
    date_to: date,
    tz: str,
    now: datetime,
    protector: Protector,
    hospital_id: int | None = None,
    channel_id: int | None = None,
) -> QualityReport:
    """The figures of local dates ``date_from`` … ``date_to`` (both included), overall
    and per hospital and per channel, narrowed to one hospital and/or channel if given.
    ``now`` decides which days have ended (retention follows only those)."""
    period = _period(date_from, date_to)
    hospitals, channels = _labels(db, hospital_id=hospital_id, channel_id=channel_id)
    scope = Scope(hospital_id=hospital_id, channel_id=channel_id)
    # Activity from the 30 days the MAU reads to the 30 days retention follows.
    span = Period(
        min(period.first, period.last - (rules.MAU_DAYS - 1) * DAY),
        period.last + max(rules.RETENTION_HORIZONS) * DAY,
    )
    facts = load_facts(
        db, period=period, activity_span=span, tz=tz, protector=protector, scope=scope
    )
    last_complete = local_day(now, ZoneInfo(tz)) - DAY

    def figures(within: Scope) -> QualityFigures:
        return QualityFigures.of(
            rules.figures(facts, period=period, scope=within, last_complete=last_complete)
        )

    return QualityReport(
        date_from=period.first,
        date_to=period.last,
        timezone=tz,
        hospital_id=hospital_id,
        channel_id=channel_id,
        overall=figures(scope),
        hospitals=[
            _row("hospital", h, hospitals[h], figures(Scope(hospital_id=h, channel_id=channel_id)))
            for h in facts.hospitals(scope)
            if h in hospitals
        ],
        channels=[
            _row("channel", c, channels[c], figures(Scope(hospital_id=hospital_id, channel_id=c)))
            for c in facts.channels(scope)
            if c in channels
        ],
    )


def _row(
    kind: Literal["hospital", "channel"], id_: int, label: tuple[str, str], figures: QualityFigures
) -> ScopeFigures:
    code, name = label
    return ScopeFigures(kind=kind, id=id_, code=code, name=name, figures=figures)


def trend(
    db: Session,
    *,
    end: date,
    days: int = DEFAULT_DAYS,
    tz: str,
    protector: Protector,
    hospital_id: int | None = None,
    channel_id: int | None = None,
) -> list[DayFigures]:
    """One row per local day of the ``days`` days ending with ``end``, oldest first."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(
            f"days must be 1 to {MAX_DAYS}.",
            code="metrics_days_invalid",
            detail_zh=f"天数须在 1 到 {MAX_DAYS} 之间。",
        )
    period = Period.ending(end, days=days)
    _labels(db, hospital_id=hospital_id, channel_id=channel_id)
    scope = Scope(hospital_id=hospital_id, channel_id=channel_id)
    facts = load_facts(
        db, period=period, activity_span=period, tz=tz, protector=protector, scope=scope
    )
    return [DayFigures.of(row) for row in rules.trend(facts, period=period, scope=scope)]


def read_quality(
    db: Session,
    *,
    date_from: date,
    date_to: date,
    tz: str,
    now: datetime,
    protector: Protector,
    actor: StaffActor,
    hospital_id: int | None = None,
    channel_id: int | None = None,
) -> QualityReport:
    """:func:`quality` as read by a member of staff: audited (``metrics.read``) in the same
    transaction, like every report reading."""
    report = quality(
        db,
        date_from=date_from,
        date_to=date_to,
        tz=tz,
        now=now,
        protector=protector,
        hospital_id=hospital_id,
        channel_id=channel_id,
    )
    _audit(
        db,
        actor=actor,
        now=now,
        view="quality",
        target=f"{report.date_from}..{report.date_to}",
        hospital_id=hospital_id,
        channel_id=channel_id,
    )
    return report


def read_trend(
    db: Session,
    *,
    end: date,
    days: int = DEFAULT_DAYS,
    tz: str,
    now: datetime,
    protector: Protector,
    actor: StaffActor,
    hospital_id: int | None = None,
    channel_id: int | None = None,
) -> list[DayFigures]:
    """:func:`trend` as read by a member of staff, audited like :func:`read_quality`."""
    rows = trend(
        db,
        end=end,
        days=days,
        tz=tz,
        protector=protector,
        hospital_id=hospital_id,
        channel_id=channel_id,
    )
    first = end - (days - 1) * DAY
    _audit(
        db,
        actor=actor,
        now=now,
        view="trend",
        target=f"{first}..{end}",
        hospital_id=hospital_id,
        channel_id=channel_id,
    )
    return rows


def scope_ids(
    db: Session, *, hospital_code: str | None = None, channel_code: str | None = None
) -> tuple[int | None, int | None]:
    """The ids of a hospital and a channel given by code (None stays None); an unknown code
    is refused."""
    hospital_id = channel_id = None
    if hospital_code is not None:
        found = {code: id_ for id_, (code, _) in repo.hospital_labels(db).items()}
        if hospital_code not in found:
            raise HospitalNotFound(f"No hospital has the code {hospital_code!r}.")
        hospital_id = found[hospital_code]
    if channel_code is not None:
        found = {code: id_ for id_, (code, _) in repo.channel_labels(db).items()}
        if channel_code not in found:
            raise ChannelNotFound(f"No channel has the code {channel_code!r}.")
        channel_id = found[channel_code]
    return hospital_id, channel_id


def _period(date_from: date, date_to: date) -> Period:
    if date_to < date_from:
        raise InvalidInput(
            "date_to must be on or after date_from.",
            code="metrics_period_invalid",
            detail_zh="结束日期不能早于开始日期。",
        )
    period = Period(date_from, date_to)
    if period.length > MAX_DAYS:
        raise InvalidInput(
            f"A period covers at most {MAX_DAYS} days.",
            code="metrics_period_invalid",
            detail_zh=f"统计区间最多 {MAX_DAYS} 天。",
        )
    return period


def _labels(
    db: Session, *, hospital_id: int | None, channel_id: int | None
) -> tuple[dict[int, tuple[str, str]], dict[int, tuple[str, str]]]:
    """Every hospital's and channel's (code, name); an unknown filter is refused."""
    hospitals, channels = repo.hospital_labels(db), repo.channel_labels(db)
    if hospital_id is not None and hospital_id not in hospitals:
        raise HospitalNotFound("No hospital has this id.", detail_zh="没有该医院。")
    if channel_id is not None and channel_id not in channels:
        raise ChannelNotFound("No channel has this id.", detail_zh="没有该渠道。")
    return hospitals, channels


def _audit(
    db: Session,
    *,
    actor: StaffActor,
    now: datetime,
    view: str,
    target: str,
    hospital_id: int | None,
    channel_id: int | None,
) -> None:
    audit.record(
        db,
        actor=actor,
        action="metrics.read",
        target_kind="quality_metrics",
        target_id=target,
        now=now,
        data={"view": view, "hospital_id": hospital_id, "channel_id": channel_id},
    )
