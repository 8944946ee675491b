"""A caller the real-time gate let hold a moment ago, as the sold-out lane recalls it
(``api/sold_out_lane.py``): the identifiers it was screened under and the patient facts
its refusal's alternatives were ranked with."""

from __future__ import annotations

from dataclasses import dataclass

from fairslot.alternatives.service import KnownPatient
from fairslot.memo import Memo

# (channel, account, patient)
CallerKey = tuple[int, int, int]


@dataclass(frozen=True)
class ScreenedCaller:
    """Who the gate screened (the keyed hashes of the end user's device, network and
    Wi-Fi, the patient's key) and the patient's facts as the ranking read them."""

    device_key: str | None
    ip_key: str | None
    wifi_key: str | None
    patient_key: str | None
    patient: KnownPatient


ScreenedMemo = Memo[CallerKey, ScreenedCaller]
