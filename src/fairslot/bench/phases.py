"""The wrk phases of one ``bench release`` run, each a :class:`~fairslot.bench.lua.Plan`.

Every phase uses the same generator and the same number of connections (one per wrk
thread, ``bench/lua.py`` says why); identities are dealt to the connections round-robin,
the same way in every phase, so a connection confirms the holds its own identities made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fairslot.bench.lua import Pacing, Plan, Who, split
from fairslot.bench.scenario import Identity, Release
from fairslot.bench.stats import Sample


def who(identity: Identity) -> Who:
    return Who(
        account_id=identity.account_id,
        patient_id=identity.patient_id,
        channel_key=identity.channel_key,
        device_id=identity.device_id,
        ip=identity.ip,
    )


@dataclass(frozen=True)
class Targets:
    """What the phases aim at: who, and which sessions and slots."""

    identities: Sequence[Identity]
    release: Release
    anchor_channel_id: int
    connections: int

    def dealt(self) -> list[list[Who]]:
        people = [who(i) for i in self.identities]
        return [list(share) for share in split(people, self.connections)]  # type: ignore[arg-type]

    @property
    def availability_path(self) -> str:
        day = self.release.session_date.isoformat()
        return (
            f"/v1/availability?department_id={self.release.department_id}"
            f"&date_from={day}&date_to={day}"
        )


def get_plan(*, endpoint: str, path: str, connections: int) -> Plan:
    """A fixed GET: the ceiling (``/healthz``) or the trivial responder."""
    return Plan(flow="get", connections=connections, constants={"ENDPOINT": endpoint, "PATH": path})


def mix_plan(targets: Targets, *, pacing: Pacing | None = None) -> Plan:
    """The release mix (closed loop, or open loop at ``pacing``)."""
    return Plan(
        flow="mix",
        connections=targets.connections,
        identities=targets.dealt(),
        constants={
            "SCARCE": list(targets.release.scarce_session_ids),
            "AVAILABILITY_PATH": targets.availability_path,
        },
        pacing=pacing,
    )


def availability_plan(targets: Targets) -> Plan:
    return Plan(
        flow="availability",
        connections=targets.connections,
        identities=targets.dealt(),
        constants={"AVAILABILITY_PATH": targets.availability_path},
    )


def sold_out_plan(targets: Targets) -> Plan:
    """Holds by session on the scarce sessions, once the release mix has sold them out."""
    return Plan(
        flow="sold_out",
        connections=targets.connections,
        identities=targets.dealt(),
        constants={"SOLD_OUT": list(targets.release.scarce_session_ids)},
    )


def hold_plan(targets: Targets, *, by: str) -> Plan:
    """Successful holds in the clinic of plenty, once per identity, in two phases that
    never share an identity or a slot:

    * ``by="slot"`` — every other identity holds a slot of its own (from the even
      sessions): like the anchor, one claim per slot, nobody fights;
    * ``by="session"`` — the others hold by session (the odd sessions), where the
      platform picks the lowest free slot and everybody fights over it.
    """
    if by not in ("slot", "session"):
        raise ValueError("hold by slot or by session")
    release = targets.release
    sessions = release.ample_session_ids
    by_session = list(sessions[1::2])
    slots = _slots_of(release, keep=set(sessions[0::2]))
    dealt = targets.dealt()
    items: list[list[dict[str, object]]] = [[] for _ in dealt]
    slot_n = session_n = 0
    for w in range(max((len(d) for d in dealt), default=0)):
        for n, share in enumerate(dealt):
            if w >= len(share):
                continue
            if (w + n) % 2 == 0:
                if by == "slot" and slot_n < len(slots):
                    items[n].append({"w": w + 1, "s": slots[slot_n]})
                    slot_n += 1
            elif by == "session" and by_session:
                items[n].append({"w": w + 1, "n": by_session[session_n % len(by_session)]})
                session_n += 1
    return Plan(flow="hold", connections=targets.connections, identities=dealt, items=items)


def _slots_of(release: Release, *, keep: set[int]) -> list[str]:
    """The clinic of plenty's slots in the sessions ``keep``."""
    return [
        slot
        for session, slots in zip(release.ample_session_ids, release.ample_slot_ids, strict=True)
        if session in keep
        for slot in slots
    ]


def confirm_plan(targets: Targets, *, holds: Sequence[Sample]) -> Plan:
    """Confirm every hold the hold phase made, by the connection (and identity) that
    made it; the hold records carry ``booking@identity@thread``."""
    items: list[list[dict[str, object]]] = [[] for _ in range(targets.connections)]
    for sample in holds:
        if sample.status != 201 or not sample.extra:
            continue
        booking, w, thread = sample.extra.split("@")
        items[int(thread) - 1].append({"w": int(w), "b": booking})
    return Plan(
        flow="confirm", connections=targets.connections, identities=targets.dealt(), items=items
    )


def anchor_plan(targets: Targets) -> Plan:
    """One claim per slot of the anchor's clinics: slot ``i`` of each anchor department
    goes to identity ``i``, so that nobody claims twice in one department-day (which
    the bookings' unique index refuses), on the connection that identity is dealt to."""
    dealt = targets.dealt()
    k = targets.connections
    items: list[list[dict[str, object]]] = [[] for _ in range(k)]
    for slots in targets.release.anchor_slot_ids:
        for i, slot in enumerate(slots):
            items[i % k].append({"w": i // k + 1, "s": slot})
    return Plan(
        flow="anchor",
        connections=k,
        identities=dealt,
        items=items,
        constants={"CHANNEL_ID": targets.anchor_channel_id},
    )
