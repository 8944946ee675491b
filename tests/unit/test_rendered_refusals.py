"""The sold-out lane's rendered refusals (``api/sold_out_lane.py::RenderedRefusals``):
one rendering per neighbourhood and ranking, each answer a response of its own."""

from __future__ import annotations

import datetime as dt

from starlette.responses import JSONResponse, Response

from fairslot.alternatives.rules import Candidate, Ranked, Wanted, rank
from fairslot.alternatives.service import Neighbourhood
from fairslot.api.sold_out_lane import RenderedRefusals
from fairslot.bookings.rules import DepartmentFacts
from fairslot.hospitals.kinds import DoctorTitle, SexRestriction

DAY = dt.date(2026, 11, 25)
WANTED = Wanted(
    session_id=1, hospital_id=10, grade="三级甲等", city="福州", specialty="internal",
    doctor_id=100, title=DoctorTitle.CHIEF, session_date=DAY,
)  # fmt: skip


def _hood() -> Neighbourhood:
    return Neighbourhood(wanted=WANTED, offers=())


def _ranked(session_id: int) -> list[Ranked]:
    candidate = Candidate(
        session_id=session_id, hospital_id=10, grade="三级甲等", city="福州",
        department=DepartmentFacts(
            department_id=1000, sex_restriction=SexRestriction.ANY, min_age=None, max_age=None
        ),
        specialty="internal", doctor_id=100, title=DoctorTitle.CHIEF, session_date=DAY,
        starts_at=dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC), free=3,
    )  # fmt: skip
    return rank(wanted=WANTED, candidates=[candidate])


def test_a_ranking_is_rendered_once_per_neighbourhood_and_answered_alike() -> None:
    rendered: list[int] = []

    def render(n: int) -> Response:
        rendered.append(n)
        return JSONResponse({"error": "session_full", "alternatives": [n]}, status_code=409)

    kept, hood = RenderedRefusals(), _hood()
    first = kept.answer(hood, _ranked(5), lambda: render(5))
    again = kept.answer(hood, _ranked(5), lambda: render(5))
    other = kept.answer(hood, _ranked(6), lambda: render(6))
    other_hood = _hood()  # another sold-out session's, or the memo's next read
    anew = kept.answer(other_hood, _ranked(5), lambda: render(5))
    back = kept.answer(hood, _ranked(5), lambda: render(5))  # both kept at once
    kept.answer(other_hood, _ranked(5), lambda: render(5))

    assert rendered == [5, 6, 5]
    assert first is not again  # a response of its own each time
    assert (again.status_code, again.body) == (409, first.body)
    assert (
        dict(again.headers)
        == dict(first.headers)
        == {
            "content-type": "application/json",
            "content-length": str(len(first.body)),
        }
    )
    assert other.body != first.body and anew.body == back.body == first.body


def test_past_its_bound_the_store_starts_anew() -> None:
    rendered: list[int] = []
    kept, hood = RenderedRefusals(), _hood()

    def render() -> Response:
        rendered.append(1)
        return JSONResponse({"error": "session_full"}, status_code=409)

    hoods = [_hood() for _ in range(RenderedRefusals.MAX)]  # kept alive: distinct ids
    kept.answer(hood, _ranked(5), render)
    for other in hoods:
        kept.answer(other, _ranked(5), render)
    kept.answer(hood, _ranked(5), render)
    assert len(rendered) == RenderedRefusals.MAX + 2  # the first was dropped with the rest
