"""A small world for the verification tests: firm F of cluster X in province P with its
submitted, answered assessment on the report-test framework, the baseline of F's project in
programme P; an assessor of P; an assessor of Q; F's user; X's official; firm G (also in X) with
its own verified assessment and evidence."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from assessments.models import Answer, Assessment
from programmes import services
from programmes.models import AssessorScope, Programme, Provider, RetrofitProject
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    FirmMemberFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    UserFactory,
    make_uscc,
)
from tests.reports.builders import framework_version, make_round, submit_many

ANSWERS: dict[str, Any] = {
    "B1": 50,
    "B2": ["policy", "firewall"],
    "B3": True,
    "M1": "adopted",
    "M2": True,
    "S1": 3,
    "S2": 3,
    "S3": 2,
}


@dataclass
class World:
    fw: Any
    version: Any
    f: Any
    g: Any
    assessment: Assessment  # F's, to verify
    assessment_g: Assessment
    project: RetrofitProject
    programme: Programme
    assessor: Any
    outside_assessor: Any
    firm_user: Any
    other_firm_user: Any
    official: Any


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_file(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _answered(assessment: Assessment, answers: dict[str, Any]) -> None:
    for code, value in answers.items():
        Answer.objects.create(assessment=assessment, question_code=code, value=value)


def build_world() -> World:
    p = RegionFactory(code="440000", name_zh="广东省", name_en="Guangdong", level="province")
    q = RegionFactory(code="450000", name_zh="广西", name_en="Guangxi", level="province")
    x = ClusterFactory(slug="xanadu", name_zh="集群Xanadu", region=p)
    f = FirmFactory(name="企业Fennel", region=p)
    g = FirmFactory(name="企业Gorse", region=p)
    for firm in (f, g):
        MembershipFactory(cluster=x, firm=firm)
    version, fw = framework_version()
    round_ = make_round(x, version, name="轮次Marlow", opens=timezone.now() - dt.timedelta(days=30))
    (assessment, _), (assessment_g, _) = submit_many(round_, fw, [f, g], [ANSWERS, ANSWERS])
    _answered(assessment, ANSWERS)
    _answered(assessment_g, ANSWERS)
    assessor = UserFactory(username="assessor")
    AssessorScope.objects.create(user=assessor, region=p)
    outside_assessor = UserFactory(username="outside_assessor")
    AssessorScope.objects.create(user=outside_assessor, region=q)
    firm_user = UserFactory(username="firm_user")
    FirmMemberFactory(user=firm_user, firm=f)
    other_firm_user = UserFactory(username="other_firm_user")
    FirmMemberFactory(user=other_firm_user, firm=g)
    official = UserFactory(username="official")
    OfficialScopeFactory(user=official, cluster=x)
    programme = Programme.objects.create(
        slug="programme-p",
        name_zh="转型计划P",
        region=p,
        framework_version=version,
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2027, 12, 31),
        target_level="L2",
        target_firms=10,
    )
    provider = Provider.objects.create(
        uscc=make_uscc(800_001), name="服务商Kestrel", kind="integrator", region=p
    )
    regional = UserFactory(username="regional")
    OfficialScopeFactory(user=regional, region=p)
    project = services.project_create(
        programme, firm=f, provider=provider, user=regional, baseline=assessment, title="改造F"
    )
    services.project_create(
        programme, firm=g, provider=provider, user=regional, baseline=assessment_g, title="改造G"
    )
    return World(
        fw=fw,
        version=version,
        f=f,
        g=g,
        assessment=assessment,
        assessment_g=assessment_g,
        project=project,
        programme=programme,
        assessor=assessor,
        outside_assessor=outside_assessor,
        firm_user=firm_user,
        other_firm_user=other_firm_user,
        official=official,
    )
