"""factory_boy factories shared by every test tier, one for each model the tests create.

Frameworks are never written by hand: `FrameworkVersionFactory` loads a framework file (a
built-in one unless `path` is given) through the same loader as `manage.py load_framework`.
`SubmittedAssessmentFactory` saves answers and submits them through `assessment_submit`, so
its stored result, dimension scores and attainments are the real scorer's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from assessments.framework import builtin_framework_paths, load_framework_file
from assessments.models import Answer, Assessment, FrameworkVersion, Invitation, Round
from assessments.services import assessment_submit, invitation_token
from assessments.versions import framework_version_load
from clusters.models import (
    Cluster,
    ClusterMembership,
    Firm,
    FirmMember,
    OfficialScope,
    Region,
    RegisterUpload,
)
from reports.models import ReportJob

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def make_uscc(n: int) -> str:
    """A valid 18-character USCC (GB 32100-2015 check character) derived from n."""
    body = "91" + "110000" + f"{n:09d}"[-9:]  # registration dept 9, kind 1, region, org code
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    check = _USCC_CHARS[(31 - total % 31) % 31]
    return body + check


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"{110000 + n * 100}")
    name_zh = factory.Sequence(lambda n: f"地区{n}")
    name_en = factory.Sequence(lambda n: f"Region {n}")
    level = Region.Level.PROVINCE
    parent = None

    @factory.post_generation
    def set_path(obj: Region, create: bool, extracted: object, **kwargs: object) -> None:
        parent_path = obj.parent.path if obj.parent_id else "/"
        obj.path = f"{parent_path}{obj.pk}/"
        if create:
            obj.save(update_fields=["path"])


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster

    slug = factory.Sequence(lambda n: f"cluster-{n}")
    name_zh = factory.Sequence(lambda n: f"产业集群{n}")
    name_en = factory.Sequence(lambda n: f"Cluster {n}")
    kind = Cluster.Kind.SME_CHARACTERISTIC
    region = factory.SubFactory(RegionFactory)


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    uscc = factory.Sequence(make_uscc)
    name = factory.Sequence(lambda n: f"示例制造有限公司{n}")
    region = None
    industry_section = "C"
    industry_division = "34"
    employees = 120
    revenue_10k_cny = 8000
    size_class = Firm.SizeClass.SMALL


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClusterMembership

    cluster = factory.SubFactory(ClusterFactory)
    firm = factory.SubFactory(FirmFactory)
    start_date = dt.date(2024, 1, 1)


class FirmMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FirmMember

    user = factory.SubFactory(UserFactory)
    firm = factory.SubFactory(FirmFactory)
    role = FirmMember.Role.OWNER


class OfficialScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficialScope

    user = factory.SubFactory(UserFactory)
    cluster = None
    region = None


class RegisterUploadFactory(factory.django.DjangoModelFactory):
    """A previewed register file of a cluster (a one-line CSV unless `file` is given)."""

    class Meta:
        model = RegisterUpload

    cluster = factory.SubFactory(ClusterFactory)
    uploaded_by = None
    original_name = factory.Sequence(lambda n: f"register-{n}.csv")
    file = factory.LazyAttribute(
        lambda o: ContentFile("统一社会信用代码,企业名称\n".encode(), name=o.original_name)
    )


# --- Frameworks, rounds, invitations, assessments ---------------------------------------------


def builtin_framework_path(slug: str) -> Path:
    """The built-in framework file (assessments/frameworks/) whose framework has this slug."""
    for path in builtin_framework_paths():
        if load_framework_file(path).slug == slug:
            return path
    raise LookupError(f"no built-in framework {slug}")


class FrameworkVersionFactory(factory.Factory):
    """A framework version loaded from a file and published (idempotent, as the loader is).

    `FrameworkVersionFactory()` is the built-in MIIT framework; `builtin="edih-dma"` picks
    another built-in one, `path=...` any framework file.
    """

    class Meta:
        model = FrameworkVersion

    class Params:
        builtin = "miit-sme"

    path = factory.LazyAttribute(lambda o: builtin_framework_path(o.builtin))
    publish = True

    @classmethod
    def _create(cls, model_class: type, path: Path, publish: bool) -> FrameworkVersion:
        version, _status = framework_version_load(load_framework_file(path), publish=publish)
        return version

    @classmethod
    def _build(cls, model_class: type, *args: object, **kwargs: object) -> FrameworkVersion:
        raise NotImplementedError("a framework version is only made by loading its file")


class RoundFactory(factory.django.DjangoModelFactory):
    """A round of a cluster, open from yesterday for a month unless dates are given."""

    class Meta:
        model = Round

    cluster = factory.SubFactory(ClusterFactory)
    framework_version = factory.SubFactory(FrameworkVersionFactory)
    name = "2026 春季评估"
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + dt.timedelta(days=31))


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    round = factory.SubFactory(RoundFactory)
    firm = factory.SubFactory(FirmFactory)
    token = factory.LazyFunction(invitation_token)


class AssessmentFactory(factory.django.DjangoModelFactory):
    """A draft on the round's framework version; `answers={code: value}` stores its answers
    as rows (not through `answer_save`, which checks each against the open round)."""

    class Meta:
        model = Assessment
        skip_postgeneration_save = True

    round = factory.SubFactory(RoundFactory)
    firm = factory.SubFactory(FirmFactory)
    framework_version = factory.LazyAttribute(lambda o: o.round.framework_version)

    @factory.post_generation
    def answers(obj: Assessment, create: bool, extracted: dict[str, Any] | None, **kw: Any) -> None:
        if create and extracted:
            Answer.objects.bulk_create(
                Answer(assessment=obj, question_code=code, value=value)
                for code, value in extracted.items()
            )


class SubmittedAssessmentFactory(AssessmentFactory):
    """A draft with `answers`, submitted through `assessment_submit`, so the stored result and
    its rows are the scorer's. It is submitted at `submitted_at`: unless given, now while the
    round is open, else three days after it opened."""

    submitted_by = None
    submitted_at = None  # the draft carries it until `assessment_submit` stores it

    @factory.post_generation
    def submit(obj: Assessment, create: bool, extracted: object, **kw: Any) -> None:
        if create:
            now = timezone.now()
            when = obj.submitted_at or (
                now
                if obj.round.opens_at <= now < obj.round.closes_at
                else obj.round.opens_at + dt.timedelta(days=3)
            )
            assessment_submit(obj, user=obj.submitted_by, now=when)
            obj.refresh_from_db()


class ReportJobFactory(factory.django.DjangoModelFactory):
    """A queued cluster report job; the caller names its subject and status."""

    class Meta:
        model = ReportJob

    kind = ReportJob.Kind.CLUSTER
    language = "zh-hans"
    fingerprint = factory.Sequence(lambda n: hashlib.sha256(f"job-{n}".encode()).hexdigest())


# --- Issue 13: pages (providers, programmes, projects) ----------------------------------------


class ProviderFactory(factory.django.DjangoModelFactory):
    """A service provider in the register of `region`."""

    class Meta:
        model = "programmes.Provider"

    uscc = factory.Sequence(lambda n: make_uscc(600_000 + n))
    name = factory.Sequence(lambda n: f"智造服务商{n}")
    kind = "integrator"
    region = factory.SubFactory(RegionFactory)


class ProgrammeFactory(factory.django.DjangoModelFactory):
    """A programme of `region` on a framework version (the built-in MIIT one unless given),
    aiming at its second level (MIIT: L2) for 10 firms."""

    class Meta:
        model = "programmes.Programme"

    slug = factory.Sequence(lambda n: f"programme-{n}")
    name_zh = factory.Sequence(lambda n: f"数字化转型计划{n}")
    name_en = factory.Sequence(lambda n: f"Transformation programme {n}")
    region = factory.SubFactory(RegionFactory)
    framework_version = factory.SubFactory(FrameworkVersionFactory)
    starts_on = dt.date(2025, 1, 1)
    ends_on = dt.date(2027, 12, 31)
    target_level = "L2"
    target_firms = 10
    target_date = dt.date(2027, 6, 30)


class ProjectFactory(factory.django.DjangoModelFactory):
    """A retrofit project at stage diagnosed, written directly (not through the services):
    tests of the rules call `programmes.services` themselves."""

    class Meta:
        model = "programmes.RetrofitProject"

    programme = factory.SubFactory(ProgrammeFactory)
    firm = factory.SubFactory(FirmFactory)
    provider = factory.SubFactory(
        ProviderFactory, region=factory.SelfAttribute("..programme.region")
    )
    stage_changed_at = factory.LazyFunction(timezone.now)
