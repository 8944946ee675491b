"""The nights of the demo's past (``demo/past_plan.py`` tells the story): the big
release (draws, a clinic sold out, the window's share, a late intent, a mistaken
gynaecology booking, a grab script's polls), two earlier draws, a few smaller releases
and the blacklisted grab tool's try. Pure: functions of the planner's state and generator.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from fairslot.demo.past_people import walk_in
from fairslot.demo.past_plan import (
    DAYS_AHEAD,
    DRAW_HOSPITALS,
    EARLIER_DRAWS,
    MAX_OVERSUBSCRIBED,
    OTHER_DRAW_INTENTS,
    OVERSUBSCRIBED_BY,
    RADAR_POLLS,
    REFUSED_AT_THE_END,
    RELEASE,
    SCALPER_CLINIC,
    SMALL_RELEASES,
    WINDOW_DESK,
    After,
    Clinic,
    Kind,
    Radar,
    local,
)
from fairslot.hospitals.kinds import DoctorTitle
from fairslot.patients.identity import Sex

if TYPE_CHECKING:
    from fairslot.demo.past_planner import Planner


def big_night(p: Planner, *, grab_network: str) -> None:
    """The draws of the released day (the one with the fewest slots oversubscribed), the
    clinic that sells out, a late intent, the grab script's polls, a man trying
    gynaecology and the leftovers of earlier draws taken in the daytime."""
    night, day = p.big, p.big + timedelta(days=DAYS_AHEAD)
    release = local(night, RELEASE, p.zone)
    ranked = sorted(_draw_days(p, day), key=lambda d: (_draw_slots(p, d[0], d[1], day), d))
    for n, (hospital, department) in enumerate(ranked):
        slots = _draw_slots(p, hospital, department, day)
        over = n == 0 and slots <= MAX_OVERSUBSCRIBED
        if over:
            p.oversubscribed = (hospital, department, slots)
        count = slots + OVERSUBSCRIBED_BY if over else min(OTHER_DRAW_INTENTS, slots - 1)
        _draw(p, night, hospital, department, day, count=count)
    p.sold_out = _sell_out(p, night, day)
    if p.draws:
        hospital, department, _ = p.draws[0]
        p.add(
            Kind.LATE_INTENT,
            release + timedelta(seconds=p.rng.uniform(50, 110)),
            p.someone(day=day, department=department, midnight=True),
            hospital,
            department,
            day,
            title=_title(p, hospital, department, day),
        )
    if p.sold_out is not None:
        clinic = p.sold_out
        p.radar = Radar(
            at=release - timedelta(seconds=1),
            ip=grab_network,
            polls=RADAR_POLLS,
            every=timedelta(milliseconds=33),
            hospital=clinic.hospital,
            department=clinic.department.code,
            day=day,
        )
    # That afternoon a man books gynaecology for himself: the rules refuse him.
    gynaecology = p.clinics_on(night + timedelta(days=3), "GYN")
    man = p.someone(fits=lambda person: person.sex is Sex.MALE and person.relation == "self")
    if gynaecology and man is not None:
        p.add(
            Kind.BOOK,
            local(night, time(15, p.rng.randrange(60)), p.zone),
            man,
            gynaecology[0].hospital,
            "GYN",
            gynaecology[0].spec.session_date,
        )
    # Earlier draws' leftovers are on open sale: scarce slots taken in the daytime.
    for department in ("OPH", "STO"):
        later = night + timedelta(days=p.rng.randint(2, 5))
        found = p.clinics_on(later, department)
        if found:
            clinic = p.rng.choice(found)
            p.book_ordinary(night, clinic.hospital, department, later)


def _draw_days(p: Planner, day: date) -> list[tuple[str, str]]:
    return [
        (hospital, department)
        for hospital in DRAW_HOSPITALS
        for department in ("OPH", "STO")
        if p.clinics_on(day, department, hospital)
    ]


def _draw_slots(p: Planner, hospital: str, department: str, day: date) -> int:
    """The open slots of the title the draw's patients ask for."""
    return _titles(p, hospital, department, day)[_title(p, hospital, department, day)]


def _title(p: Planner, hospital: str, department: str, day: date) -> DoctorTitle:
    """What the draw's patients ask for: the title with the fewest slots that day
    (patients register for any doctor of a title; the experts are the fewest)."""
    titles = _titles(p, hospital, department, day)
    return min(titles, key=lambda title: (titles[title], title.value))


def _titles(p: Planner, hospital: str, department: str, day: date) -> Counter[DoctorTitle]:
    slots: Counter[DoctorTitle] = Counter()
    for clinic in p.clinics_on(day, department, hospital):
        slots[clinic.doctor.title] += clinic.open
    return slots


def _draw(
    p: Planner, night: date, hospital: str, department: str, day: date, *, count: int
) -> None:
    title = _title(p, hospital, department, day)
    midnight = local(night, time(0, 0), p.zone)
    for n in range(max(0, count)):
        person = p.someone(day=day, department=department, midnight=True)
        at = midnight + timedelta(minutes=2 + 25 * n / max(1, count), seconds=n)
        after = After.COME if day < p.today else After.NOTHING
        p.add(Kind.INTENT, at, person, hospital, department, day, title=title, after=after)
    p.draws.append((hospital, department, day))


def _sell_out(p: Planner, night: date, day: date) -> Clinic | None:
    """The smallest expert clinic released that night, wanted by more people than it
    has open slots; its reserved share is booked at the window during the day."""
    release = local(night, RELEASE, p.zone)
    for clinic in sorted(
        _expert_clinics(p, day), key=lambda c: (c.open, c.hospital, c.spec.his_session_id)
    ):
        code = clinic.department.code
        wanted = clinic.open + REFUSED_AT_THE_END
        fits = [
            key
            for key, (household, person) in sorted(p.people.items())
            if p.free(person, household, code, day, midnight=True)
        ]
        if len(fits) < wanted:
            continue
        for key in p.rng.sample(fits, wanted):
            offset = timedelta(seconds=p.rng.uniform(0.2, 2.5))
            p.add(
                Kind.RELEASE,
                release + offset,
                key,
                clinic.hospital,
                code,
                day,
                doctor=clinic.doctor.name,
                period=clinic.spec.period,
            )
        for n in range(clinic.spec.capacity - clinic.open):
            device, ip = WINDOW_DESK
            visitor = walk_in(
                p.rng,
                key=f"w{n + 1:02d}",
                today=p.today,
                device=device,
                ip=ip,
                department=clinic.department,
            )
            p.join(visitor)
            patient = next(p for p in visitor.people if p.may_see(clinic.department, day))
            p.add(
                Kind.BOOK,
                local(night, time(9 + n, p.rng.randrange(60)), p.zone),
                patient.key,
                clinic.hospital,
                code,
                day,
                doctor=clinic.doctor.name,
                period=clinic.spec.period,
            )
        return clinic
    return None


def _expert_clinics(p: Planner, day: date) -> list[Clinic]:
    """First-come clinics of scarce departments (the scalper's aside)."""
    return [
        c
        for c in p.clinics_on(day)
        if c.department.scarce
        and not c.department.drawn
        and (c.hospital, c.department.code) != SCALPER_CLINIC
    ]


def earlier_draws(p: Planner) -> None:
    """Two earlier nights' draws, with fewer intents than slots: everyone won, and
    came (their visits fell within the fortnight)."""
    nights = [
        night
        for night in p.days[1:-DAYS_AHEAD]
        if _draw_days(p, night + timedelta(days=DAYS_AHEAD))
    ]
    for night in sorted(p.rng.sample(nights, min(EARLIER_DRAWS, len(nights)))):
        day = night + timedelta(days=DAYS_AHEAD)
        hospital, department = p.rng.choice(_draw_days(p, day))
        slots = _draw_slots(p, hospital, department, day)
        _draw(p, night, hospital, department, day, count=min(OTHER_DRAW_INTENTS, slots - 1))


def small_releases(p: Planner) -> None:
    nights = [d for d in p.days[1:-2] if d != p.big]
    for night in sorted(p.rng.sample(nights, SMALL_RELEASES)):
        day = night + timedelta(days=DAYS_AHEAD)
        clinics = _expert_clinics(p, day)
        if not clinics:
            continue
        clinic = p.rng.choice(clinics)
        release = local(night, RELEASE, p.zone)
        for _ in range(2):
            p.add(
                Kind.RELEASE,
                release + timedelta(seconds=p.rng.uniform(0.5, 20)),
                p.someone(day=day, department=clinic.department.code, midnight=True),
                clinic.hospital,
                clinic.department.code,
                day,
                doctor=clinic.doctor.name,
                period=clinic.spec.period,
                after=After.COME if day < p.today else After.NOTHING,
            )


def grab(p: Planner, *, device: str) -> None:
    """A grab tool's account (opened from an ordinary phone) holds from the tool's
    device at a release while IT's ban on the device stands: refused at the gate."""
    night = p.days[-5]
    day = night + timedelta(days=DAYS_AHEAD)
    clinics = _expert_clinics(p, day)
    if not clinics:
        return
    phone = f"android-{p.rng.getrandbits(32):08x}"
    owner = replace(
        walk_in(p.rng, key="g01", today=p.today, device=phone, ip="100.120.7.9"),
        channel="third_party",
        payment=f"unionpay-{p.rng.getrandbits(40):010x}",
        user_agent="okhttp/4.12.0",
    )
    p.join(owner)
    p.add(
        Kind.GRAB,
        local(night, RELEASE, p.zone) + timedelta(milliseconds=300),
        owner.people[0].key,
        clinics[0].hospital,
        clinics[0].department.code,
        day,
        device=device,
    )
