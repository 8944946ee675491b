"""The JSON API's ranked alternatives (``alternatives/``) on a ``slot_taken`` or
``session_full`` refusal, carried in the FHIR refusal.

ITI-116 and ITI-117 allow nothing but the OperationOutcome in a failed ``$hold`` or
``$book`` answer, so the alternatives travel inside it: each one is a ``proposed``
Appointment *contained* in the OperationOutcome, plus an ``information`` issue that
names it (``details.coding``, system :data:`ALTERNATIVE_SYSTEM`, code: the id to
``$hold``), says why it is offered in English and Chinese (the service's own ``reason``
and ``reason_zh``) and points at the contained Appointment (extension
:data:`ALTERNATIVE_EXTENSION`). ``$hold`` takes that id as it takes one from ``$find``:
``Appointment/session-<id>.patient-<id>`` holds the first free slot of that session,
as ``POST /v1/holds`` with ``session_id`` does.
"""

from __future__ import annotations

from typing import Any

from fairslot.fhir.appointments import APPOINTMENT_PROFILE, proposed_id

ALTERNATIVE_SYSTEM = "urn:fairslot:alternative"
ALTERNATIVE_EXTENSION = "urn:fairslot:StructureDefinition:alternative"


def alternatives(
    found: list[dict[str, Any]], *, patient_id: int | None, translation: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(contained proposed Appointments, information issues naming them), in rank order.

    ``found`` is the refusal's ``alternatives`` as ``/v1/`` renders them
    (``AlternativeView`` in JSON form)."""
    contained: list[dict[str, Any]] = []
    issues: list[dict[str, Any]] = []
    for view in sorted(found, key=lambda v: int(v["rank"])):
        target = proposed_id(session_id=int(view["session_id"]), patient_id=patient_id)
        where = (
            f"{view['doctor_name']}, {view['department_name']}, {view['hospital_name']}, "
            f"{view['session_date']} {view['period']}"
        )
        participants = [
            _actor(f"Practitioner/{view['doctor_id']}"),
            _actor(f"HealthcareService/{view['department_id']}"),
        ]
        if patient_id is not None:
            participants.insert(0, _actor(f"Patient/{patient_id}"))
        contained.append(
            {
                "resourceType": "Appointment",
                "id": target,
                "meta": {"profile": [APPOINTMENT_PROFILE]},
                "status": "proposed",
                "description": f"{view['reason']}: {where}; {view['free']} free, fee "
                f"{view['fee']}. $hold Appointment/{target} for its first free slot.",
                # a session's window, not one slot's time: $hold picks the slot
                "requestedPeriod": [{"start": view["starts_at"], "end": view["ends_at"]}],
                "supportingInformation": [{"reference": f"Schedule/{view['session_id']}"}],
                "participant": participants,
            }
        )
        zh = (
            f"{view['reason_zh']}：{where}，余号 {view['free']}；"
            f"可对 Appointment/{target} 执行 $hold 锁定该出诊的第一个空号。"
        )
        issues.append(
            {
                "extension": [
                    {"url": ALTERNATIVE_EXTENSION, "valueReference": {"reference": f"#{target}"}}
                ],
                "severity": "information",
                "code": "informational",
                "details": {
                    "coding": [
                        {"system": ALTERNATIVE_SYSTEM, "code": target, "display": view["reason"]}
                    ],
                    "text": f"Alternative {view['rank']}: {view['reason']}: {where}; "
                    f"{view['free']} free. $hold Appointment/{target}.",
                    "_text": {
                        "extension": [
                            {
                                "url": translation,
                                "extension": [
                                    {"url": "lang", "valueCode": "zh-CN"},
                                    {"url": "content", "valueString": zh},
                                ],
                            }
                        ]
                    },
                },
                "diagnostics": zh,
            }
        )
    return contained, issues


def _actor(reference: str) -> dict[str, Any]:
    return {"actor": {"reference": reference}, "required": "required", "status": "needs-action"}
