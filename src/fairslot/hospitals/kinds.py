"""Enumerations of the supply side. Pure: no I/O."""

from __future__ import annotations

import enum


class SexRestriction(enum.StrEnum):
    ANY = "any"
    FEMALE = "female"
    MALE = "male"


class DoctorTitle(enum.StrEnum):
    CHIEF = "chief"
    ASSOCIATE_CHIEF = "associate_chief"
    ATTENDING = "attending"
    RESIDENT = "resident"
