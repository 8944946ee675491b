"""Realistic demo supply: three hospitals of different grades in one city, a dozen
departments (some restricted by sex or age) and doctors of mixed titles. Pure data."""

from __future__ import annotations

import random
from dataclasses import dataclass

from fairslot.hospitals.models import DoctorTitle, SexRestriction


@dataclass(frozen=True)
class DemoHospital:
    code: str
    name: str
    grade: str
    city: str


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    specialty: str
    sex: SexRestriction = SexRestriction.ANY
    min_age: int | None = None
    max_age: int | None = None
    scarce: bool = False  # expert clinics whose slots go in seconds


HOSPITALS = [
    DemoHospital("PUH1", "Peking Union Teaching Hospital 协和教学医院", "三级甲等", "Beijing"),
    DemoHospital("BJCH", "Beijing Central Hospital 北京市中心医院", "三级甲等", "Beijing"),
    DemoHospital("CYDH", "Chaoyang District Hospital 朝阳区医院", "二级甲等", "Beijing"),
    DemoHospital(
        "HDCH", "Haidian Community Health Centre 海淀社区卫生服务中心", "一级甲等", "Beijing"
    ),
]

DEPARTMENTS = [
    DemoDepartment("GYN", "Gynaecology 妇科", "gynecology", SexRestriction.FEMALE, scarce=True),
    DemoDepartment("OBS", "Obstetrics 产科", "obstetrics", SexRestriction.FEMALE, min_age=14),
    DemoDepartment("AND", "Andrology 男科", "andrology", SexRestriction.MALE),
    DemoDepartment("PED", "Paediatrics 儿科", "pediatrics", max_age=14, scarce=True),
    DemoDepartment("CAR", "Cardiology 心内科", "cardiology", scarce=True),
    DemoDepartment("NEU", "Neurology 神经内科", "neurology"),
    DemoDepartment("GAS", "Gastroenterology 消化内科", "gastroenterology"),
    DemoDepartment("DER", "Dermatology 皮肤科", "dermatology"),
    DemoDepartment("OPH", "Ophthalmology 眼科", "ophthalmology", scarce=True),
    DemoDepartment("ORT", "Orthopaedics 骨科", "orthopedics"),
    DemoDepartment("ENT", "Otolaryngology 耳鼻喉科", "otolaryngology"),
    DemoDepartment("STO", "Stomatology 口腔科", "stomatology", scarce=True),
    DemoDepartment("GEN", "General Medicine 全科", "general"),
]

# Which departments each hospital runs (the community centre is small).
HOSPITAL_DEPARTMENTS = {
    "PUH1": [d.code for d in DEPARTMENTS],
    "BJCH": ["GYN", "OBS", "AND", "PED", "CAR", "NEU", "GAS", "OPH", "ORT", "STO", "GEN"],
    "CYDH": ["GYN", "PED", "CAR", "DER", "ORT", "ENT", "GEN"],
    "HDCH": ["GEN", "PED", "DER"],
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅志文斌"

TITLE_MIX = [
    DoctorTitle.CHIEF,
    DoctorTitle.ASSOCIATE_CHIEF,
    DoctorTitle.ATTENDING,
    DoctorTitle.ATTENDING,
    DoctorTitle.RESIDENT,
]

FEES = {
    DoctorTitle.CHIEF: "100.00",
    DoctorTitle.ASSOCIATE_CHIEF: "60.00",
    DoctorTitle.ATTENDING: "50.00",
    DoctorTitle.RESIDENT: "50.00",
}


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given
