"""The quality metrics as the staff API, the console and ``fairslot metrics`` show them.

Every ratio is None where its denominator is 0 ("no data"); the exact definitions are the
docstrings of :mod:`fairslot.metrics.rules`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from fairslot.metrics.rules import DayRow, Figures


class QualityFigures(BaseModel):
    attempts: int = Field(description="booking attempts: (channel, account, patient, day)")
    booked_attempts: int = Field(description="attempts that ended in a confirmed booking")
    success_rate: float | None = Field(description="booked_attempts / attempts")
    time_to_book_median_s: float | None = Field(
        description="seconds from an attempt's first hold or intent to its confirmation"
    )
    time_to_book_p90_s: float | None
    dau_mean: float = Field(description="accounts with a request record per day, mean")
    dau_last_day: int
    mau: int = Field(description="accounts active in the 30 days ending with date_to")
    dau_mau: float | None = Field(description="mean DAU over those 30 days / MAU")
    active_accounts: int = Field(description="accounts active in the period")
    booking_accounts: int = Field(description="of them, accounts that confirmed a booking")
    booking_share: float | None = Field(description="booking_accounts / active_accounts")
    retention_7d_cohort: int = Field(description="(account, active day) pairs followed 7 days")
    retention_7d_retained: int
    retention_7d: float | None
    retention_30d_cohort: int
    retention_30d_retained: int
    retention_30d: float | None
    bookings: int = Field(description="bookings confirmed in the period")
    checked_in: int = Field(description="bookings of the period's sessions checked in")
    no_shows: int
    no_show_rate: float | None = Field(description="no_shows / (checked_in + no_shows)")
    scarce_taken: int = Field(description="scarce slots taken (confirmed) in the period")
    scarce_blacklisted: int = Field(description="of them, taken by a blacklisted identity")
    blacklisted_share: float | None = Field(description="scarce_blacklisted / scarce_taken")

    @classmethod
    def of(cls, f: Figures) -> QualityFigures:
        return cls(
            attempts=f.success.whole,
            booked_attempts=f.success.part,
            success_rate=f.success.rate,
            time_to_book_median_s=f.time_to_book_median_s,
            time_to_book_p90_s=f.time_to_book_p90_s,
            dau_mean=f.dau_mean,
            dau_last_day=f.dau_last_day,
            mau=f.mau,
            dau_mau=f.dau_mau,
            active_accounts=f.booking_accounts.whole,
            booking_accounts=f.booking_accounts.part,
            booking_share=f.booking_accounts.rate,
            retention_7d_cohort=f.retention_7d.whole,
            retention_7d_retained=f.retention_7d.part,
            retention_7d=f.retention_7d.rate,
            retention_30d_cohort=f.retention_30d.whole,
            retention_30d_retained=f.retention_30d.part,
            retention_30d=f.retention_30d.rate,
            bookings=f.bookings,
            checked_in=f.no_shows.whole - f.no_shows.part,
            no_shows=f.no_shows.part,
            no_show_rate=f.no_shows.rate,
            scarce_taken=f.blacklisted.whole,
            scarce_blacklisted=f.blacklisted.part,
            blacklisted_share=f.blacklisted.rate,
        )


class ScopeFigures(BaseModel):
    """One hospital's or one channel's figures within the report."""

    kind: Literal["hospital", "channel"]
    id: int
    code: str
    name: str
    figures: QualityFigures


class QualityReport(BaseModel):
    date_from: date
    date_to: date
    timezone: str = Field(description="the zone the local dates are in")
    hospital_id: int | None = Field(description="the hospital the report is narrowed to")
    channel_id: int | None = Field(description="the channel the report is narrowed to")
    overall: QualityFigures
    hospitals: list[ScopeFigures]
    channels: list[ScopeFigures]


class DayFigures(BaseModel):
    """One local day of the trend."""

    day: date
    attempts: int
    booked_attempts: int
    success_rate: float | None
    dau: int
    bookings: int = Field(description="bookings confirmed that day")
    checked_in: int = Field(description="of bookings for that day's sessions")
    no_shows: int
    no_show_rate: float | None
    scarce_taken: int
    scarce_blacklisted: int
    blacklisted_share: float | None

    @classmethod
    def of(cls, row: DayRow) -> DayFigures:
        return cls(
            day=row.day,
            attempts=row.success.whole,
            booked_attempts=row.success.part,
            success_rate=row.success.rate,
            dau=row.dau,
            bookings=row.bookings,
            checked_in=row.no_shows.whole - row.no_shows.part,
            no_shows=row.no_shows.part,
            no_show_rate=row.no_shows.rate,
            scarce_taken=row.blacklisted.whole,
            scarce_blacklisted=row.blacklisted.part,
            blacklisted_share=row.blacklisted.rate,
        )
