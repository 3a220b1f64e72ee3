"""Who may reach what: every role × every page and API endpoint, with other people's ids.

Issue 8. The cast lives in two provinces:

- province P holds city PC, which holds cluster X; province Q holds cluster Y;
- firm F (firm_user's) belongs to X **and** Y: a draft in X's open round, a result in X's past
  round and a result in Y's round; firm G (other_firm_user's) belongs to X; firm H to Y only;
- cluster_official oversees X, other_official Y; regional_official oversees P (so X),
  outside_regional_official Q (so Y); staff see everything; anonymous is not logged in.

For every named route of the project (the resolver is walked, so a new route without an entry
here fails `test_every_named_route_is_in_the_matrix`), each entry says which roles may reach the
target. Every other role must get exactly the answer that a target which does not exist gets
(same status, same body once CSRF tokens and the request's own path are masked), never a 2xx or
a 3xx, and the register, rounds, assessments, answers, invitations, uploads and report jobs
must be unchanged afterwards. Anonymous visitors are sent to log in (pages) or refused (API),
whether the target exists or not.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from assessments.models import Answer, Assessment, Invitation, InvitationMessage, Round
from clusters.models import Cluster, ClusterMembership, Firm, FirmMember, RegisterUpload
from reports.models import ReportJob, Target
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    FirmMemberFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    UserFactory,
)
from tests.reports.builders import answers_for, framework_version, make_round, submit_many

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "firm_user",
    "other_firm_user",
    "cluster_official",
    "other_official",
    "regional_official",
    "outside_regional_official",
    # Issue 13: assessors of region P and of region Q, and a user of provider K (P's).
    "assessor",
    "outside_assessor",
    "provider_user",
    "staff",
)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
OFFICIALS_X = frozenset({"cluster_official", "regional_official", "staff"})
OFFICIALS_Y = frozenset({"other_official", "outside_regional_official", "staff"})
OFFICIALS = OFFICIALS_X | OFFICIALS_Y
NOBODY: frozenset[str] = frozenset()
MISSING = 999_999  # an id that no row has
CSV = "统一社会信用代码,企业名称,从业人员,营业收入(万元)\n{code},{name},12,34\n"


# --- The cast -------------------------------------------------------------------------------


@dataclass
class Cast:
    users: dict[str, Any]
    x: Cluster
    y: Cluster
    province_p: Any
    province_q: Any
    f: Firm
    g: Firm
    h: Firm
    rx_open: Round
    rx_past: Round
    ry: Round
    draft_f: Assessment
    result_fx: Assessment
    result_gx: Assessment
    result_fy: Assessment
    result_hy: Assessment
    invitation_f: Invitation
    expired_invitation_g: Invitation
    job_x: ReportJob
    job_y: ReportJob
    job_p: ReportJob
    upload_x: RegisterUpload
    upload_y: RegisterUpload
    question: str
    dimension: str
    version_pk: int
    names: dict[str, str] = field(default_factory=dict)
    target_x: Any = None  # a Target of cluster X (issue 10)
    target_p: Any = None  # a Target of region P (issue 10)
    # Issue 13: programme P (region P) with provider K and F's project, whose baseline is
    # result_fx; programme Q with provider L and H's project (baseline result_hy). The
    # assessor of P verifies result_fx (in progress, with evidence); the outside assessor has
    # completed result_hy's verification (with evidence).
    programme_p: Any = None
    programme_q: Any = None
    provider_k: Any = None
    provider_l: Any = None
    project_f: Any = None
    project_h: Any = None
    verification_fx: Any = None
    verification_hy: Any = None
    evidence_fx: Any = None
    evidence_hy: Any = None
    batch_p: Any = None  # Issue 14: a finished report batch of region P, with its zip


def _done_batch(region: Any, user: Any) -> Any:
    """A finished report batch of the region, with a zip, requested by the user."""
    from reports.models import ReportBatch

    now = timezone.now()
    batch = ReportBatch.objects.create(
        region=region,
        language="en",
        requested_by=user,
        status=ReportBatch.Status.DONE,
        finished_at=now,
        expires_at=now + dt.timedelta(days=1),
    )
    batch.zip.save(f"batch-{batch.pk}.zip", ContentFile(b"PK test"), save=True)
    return batch


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """The cast's seven accounts are hashed with a cheap hasher (they log in by force_login)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def anonymous() -> None:
    return None


@pytest.fixture
def place(db: None) -> dict[str, Any]:
    """Regions, clusters and firms; F belongs to both X and Y."""
    p = RegionFactory(code="440000", name_zh="广东省", name_en="Guangdong", level="province")
    pc = RegionFactory(code="440300", name_zh="深圳市", name_en="Shenzhen", level="city", parent=p)
    q = RegionFactory(code="450000", name_zh="广西", name_en="Guangxi", level="province")
    x = ClusterFactory(slug="xanadu", name_zh="集群Xanadu", name_en="集群Xanadu", region=pc)
    y = ClusterFactory(slug="yonder", name_zh="集群Yonder", name_en="集群Yonder", region=q)
    f = FirmFactory(name="企业Fennel")
    g = FirmFactory(name="企业Gorse")
    h = FirmFactory(name="企业Hazel")
    for cluster, firm in ((x, f), (y, f), (x, g), (y, h)):
        MembershipFactory(cluster=cluster, firm=firm)
    return {"p": p, "q": q, "x": x, "y": y, "f": f, "g": g, "h": h}


@pytest.fixture
def firm_user(place: dict[str, Any]) -> Any:
    user = UserFactory(username="firm_user")
    FirmMemberFactory(user=user, firm=place["f"])
    return user


@pytest.fixture
def other_firm_user(place: dict[str, Any]) -> Any:
    user = UserFactory(username="other_firm_user")
    FirmMemberFactory(user=user, firm=place["g"])
    return user


@pytest.fixture
def cluster_official(place: dict[str, Any]) -> Any:
    user = UserFactory(username="cluster_official")
    OfficialScopeFactory(user=user, cluster=place["x"])
    return user


@pytest.fixture
def other_official(place: dict[str, Any]) -> Any:
    user = UserFactory(username="other_official")
    OfficialScopeFactory(user=user, cluster=place["y"])
    return user


@pytest.fixture
def regional_official(place: dict[str, Any]) -> Any:
    user = UserFactory(username="regional_official")
    OfficialScopeFactory(user=user, region=place["p"])
    return user


@pytest.fixture
def outside_regional_official(place: dict[str, Any]) -> Any:
    user = UserFactory(username="outside_regional_official")
    OfficialScopeFactory(user=user, region=place["q"])
    return user


@pytest.fixture
def assessor(place: dict[str, Any]) -> Any:
    from programmes.models import AssessorScope

    user = UserFactory(username="assessor")
    AssessorScope.objects.create(user=user, region=place["p"])
    return user


@pytest.fixture
def outside_assessor(place: dict[str, Any]) -> Any:
    from programmes.models import AssessorScope

    user = UserFactory(username="outside_assessor")
    AssessorScope.objects.create(user=user, region=place["q"])
    return user


@pytest.fixture
def provider_user(place: dict[str, Any]) -> Any:
    return UserFactory(username="provider_user")  # joins provider K in `_programme_cast`


@pytest.fixture
def staff(db: None) -> Any:
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


def _done_job(kind: str, params: dict[str, Any], user: Any) -> ReportJob:
    now = timezone.now()
    job = ReportJob.objects.create(
        kind=kind,
        **params,  # the ids of its links: cluster_id and round_id, or region_id
        language="en",
        requested_by=user,
        fingerprint=f"{kind}-{sorted(params.items())}",
        status=ReportJob.Status.DONE,
        progress=100,
        finished_at=now,
        expires_at=now + dt.timedelta(days=1),
    )
    job.pdf.save(f"job-{job.pk}.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    job.xlsx.save(f"job-{job.pk}.xlsx", ContentFile(b"PK test"), save=False)
    job.save(update_fields=["pdf", "xlsx"])
    return job


def _upload(cluster: Cluster, user: Any, code: str) -> RegisterUpload:
    from clusters.services import register_upload_create

    data = CSV.format(code=code, name="新公司").encode()
    upload, _checked = register_upload_create(
        cluster=cluster, user=user, data=data, filename="firms.csv"
    )
    return upload


@pytest.fixture
def cast(
    place: dict[str, Any],
    anonymous: None,
    firm_user: Any,
    other_firm_user: Any,
    cluster_official: Any,
    other_official: Any,
    regional_official: Any,
    outside_regional_official: Any,
    assessor: Any,
    outside_assessor: Any,
    provider_user: Any,
    staff: Any,
) -> Cast:
    import random

    from tests.factories import make_uscc

    rng = random.Random(8)
    version, fw = framework_version()
    x, y, f, g, h = place["x"], place["y"], place["f"], place["g"], place["h"]
    now = timezone.now()
    rx_past = make_round(x, version, name="轮次Marlow", opens=now - dt.timedelta(days=400))
    ry = make_round(y, version, name="轮次Nimbus", opens=now - dt.timedelta(days=300))
    rx_open = make_round(x, version, name="轮次Lumen", opens=now - dt.timedelta(days=1))
    (result_fx, _), (result_gx, _) = submit_many(
        rx_past, fw, [f, g], [answers_for(fw, 0.6, rng), answers_for(fw, 0.4, rng)]
    )
    (result_fy, _), (result_hy, _) = submit_many(
        ry, fw, [f, h], [answers_for(fw, 0.8, rng), answers_for(fw, 0.3, rng)]
    )
    invitation_f = Invitation.objects.create(round=rx_open, firm=f, token="token-f-open-xxxxxx")
    Invitation.objects.create(round=rx_open, firm=g, token="token-g-open-xxxxxx")
    expired_g = Invitation.objects.get(round=rx_past, firm=g)
    draft_f = Assessment.objects.create(
        round=rx_open, firm=f, framework_version=rx_open.framework_version
    )
    question = fw.questions[0].code
    Answer.objects.create(assessment=draft_f, question_code=question, value=None, revision=1)
    job_x = _done_job("cluster", {"cluster_id": x.pk, "round_id": rx_past.pk}, cluster_official)
    job_y = _done_job("cluster", {"cluster_id": y.pk, "round_id": ry.pk}, other_official)
    job_p = _done_job("region", {"region_id": place["p"].pk}, regional_official)
    upload_x = _upload(x, cluster_official, make_uscc(700_001))
    upload_y = _upload(y, other_official, make_uscc(700_002))
    users = {
        "anonymous": None,
        "firm_user": firm_user,
        "other_firm_user": other_firm_user,
        "cluster_official": cluster_official,
        "other_official": other_official,
        "regional_official": regional_official,
        "outside_regional_official": outside_regional_official,
        "assessor": assessor,
        "outside_assessor": outside_assessor,
        "provider_user": provider_user,
        "staff": staff,
    }
    cast = Cast(
        users=users,
        x=x,
        y=y,
        province_p=place["p"],
        province_q=place["q"],
        f=f,
        g=g,
        h=h,
        rx_open=rx_open,
        rx_past=rx_past,
        ry=ry,
        draft_f=draft_f,
        result_fx=result_fx,
        result_gx=result_gx,
        result_fy=result_fy,
        result_hy=result_hy,
        invitation_f=invitation_f,
        expired_invitation_g=expired_g,
        job_x=job_x,
        job_y=job_y,
        job_p=job_p,
        batch_p=_done_batch(place["p"], regional_official),
        upload_x=upload_x,
        upload_y=upload_y,
        question=question,
        dimension=fw.dimensions[0].code,
        version_pk=version.pk,
        target_x=Target.objects.create(
            cluster=x,
            framework=version.framework,
            level=fw.levels[0].code,
            firms=10,
            deadline=dt.date(2030, 6, 30),
        ),
        target_p=Target.objects.create(
            region=place["p"],
            framework=version.framework,
            level=fw.levels[0].code,
            firms=20,
            deadline=dt.date(2030, 6, 30),
        ),
    )
    _programme_cast(cast, version, fw)
    return cast


def _programme_cast(cast: Cast, version: Any, fw: Any) -> None:
    """Issue 13's part of the cast (see the Cast fields)."""
    import random

    from programmes import services as programme_services
    from programmes.models import Evidence, Programme, Provider, ProviderMember
    from tests.factories import make_uscc

    users = cast.users
    programmes = {}
    for key, region in (("p", cast.province_p), ("q", cast.province_q)):
        programmes[key] = Programme.objects.create(
            slug=f"programme-{key}",
            name_zh=f"项目Programme{key.upper()}",
            region=region,
            framework_version=version,
            starts_on=dt.date(2025, 1, 1),
            ends_on=dt.date(2027, 12, 31),
            target_level=fw.levels[-1].code,
            target_firms=10,
        )
    cast.programme_p, cast.programme_q = programmes["p"], programmes["q"]
    cast.provider_k = Provider.objects.create(
        uscc=make_uscc(800_001), name="服务商Kestrel", kind="integrator", region=cast.province_p
    )
    cast.provider_l = Provider.objects.create(
        uscc=make_uscc(800_002), name="服务商Linnet", kind="product", region=cast.province_q
    )
    ProviderMember.objects.create(user=users["provider_user"], provider=cast.provider_k)
    cast.project_f = programme_services.project_create(
        cast.programme_p,
        firm=cast.f,
        provider=cast.provider_k,
        user=users["regional_official"],
        baseline=cast.result_fx,
        title="改造Falcon",
    )
    cast.project_h = programme_services.project_create(
        cast.programme_q,
        firm=cast.h,
        provider=cast.provider_l,
        user=users["outside_regional_official"],
        baseline=cast.result_hy,
        title="改造Heron",
    )
    # submit_many stores results without answers: give H's result the answers it verifies.
    for code, value in answers_for(fw, 0.3, random.Random(9)).items():
        Answer.objects.create(assessment=cast.result_hy, question_code=code, value=value)
    cast.verification_fx = programme_services.verification_start(
        cast.result_fx, user=users["assessor"]
    )
    cast.verification_hy = programme_services.verification_start(
        cast.result_hy, user=users["outside_assessor"]
    )
    programme_services.verification_confirm_rest(
        cast.verification_hy, user=users["outside_assessor"]
    )
    programme_services.verification_complete(cast.verification_hy, user=users["outside_assessor"])
    evidence = {}
    for key, verification in (("fx", cast.verification_fx), ("hy", cast.verification_hy)):
        item = Evidence(
            verification=verification,
            question_code=cast.question,
            original_name=f"photo-{key}.png",
            content_type="image/png",
            size=12,
        )
        item.file.save(f"evidence-{key}.png", ContentFile(b"\x89PNG\r\n\x1a\n test"), save=False)
        item.save()
        evidence[key] = item
    cast.evidence_fx, cast.evidence_hy = evidence["fx"], evidence["hy"]


@pytest.fixture(autouse=True)
def _no_pdf_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """The firm's PDF is rendered by WeasyPrint; the matrix needs only who gets it."""
    import reports.firm

    monkeypatch.setattr(reports.firm, "render_pdf", lambda *a, **k: b"%PDF-1.4 stub")


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch: pytest.MonkeyPatch) -> None:
    from reports import services

    monkeypatch.setattr(services, "_enqueue", lambda job_id: None)


# --- Requests and answers -------------------------------------------------------------------


def client_for(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def _programme_models() -> tuple[Any, ...]:
    from programmes import models as p

    return (
        p.Provider,
        p.ProviderMember,
        p.Programme,
        p.RetrofitProject,
        p.StageChange,
        p.ProviderRating,
        p.Verification,
        p.VerifiedAnswer,
        p.Evidence,
    )


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of what a write could touch."""
    models = (
        Firm,
        ClusterMembership,
        FirmMember,
        Round,
        Invitation,
        InvitationMessage,
        Assessment,
        Answer,
        RegisterUpload,
        ReportJob,
        Target,
        *_programme_models(),
    )
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


_TOKEN = re.compile(r"[A-Za-z0-9]{64}")


@dataclass(frozen=True)
class Answered:
    status: int
    body: str
    location: str

    @property
    def to_login(self) -> bool:
        return self.status == 302 and self.location.startswith(reverse("login"))


def send(client: Client, method: str, url: str, data: Any, as_json: bool) -> Answered:
    if as_json:
        response = getattr(client, method)(url, json.dumps(data), content_type="application/json")
    elif method == "put":
        response = client.put(url, data, content_type="application/x-www-form-urlencoded")
    else:
        response = getattr(client, method)(url, data or {})
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content).decode("utf-8", "replace")
    else:
        body = response.content.decode("utf-8", "replace")
    path = url.split("?")[0]
    for form in (path, html.escape(path), json.dumps(path)[1:-1]):
        body = body.replace(form, "<PATH>")
    body = _TOKEN.sub("<TOKEN>", body)
    return Answered(response.status_code, body, response.get("Location", ""))


# --- The matrix -----------------------------------------------------------------------------

Kw = Callable[[Cast], dict[str, Any]]
Body = Callable[[Cast], Any]


def _none(c: Cast) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Ref:
    """A target named in a request body: who may see it, and an id of none."""

    get: Callable[[Cast], Any]
    seen_by: frozenset[str]
    unknown: Any


@dataclass(frozen=True)
class Entry:
    """One request against one target.

    `allowed`: the roles that may reach the target. `unknown_kwargs` / `unknown_data` build the
    same request for a target that does not exist (the not-found twin); for routes without a
    target (`kind="own"` / `"public"`) there is no twin and only the general rules apply.
    """

    label: str
    route: str
    method: str = "get"
    kwargs: Kw = _none
    unknown_kwargs: Kw | None = None
    data: dict[str, Any] | None = None  # field: constant, callable(cast) or Ref
    allowed: frozenset[str] | None = None  # None: those who see every Ref of `data`
    as_json: bool = False
    kind: str = "scoped"  # scoped: has a twin; own: the user's own lists; public: anyone
    login_required: bool = True
    forbidden: Callable[[Cast, str], list[str]] | None = None  # text that must not show
    unchanged: frozenset[str] = NOBODY  # public entries: roles for whom nothing may change

    def may(self, role: str) -> bool:
        if self.allowed is not None:
            return role in self.allowed
        refs = [v for v in (self.data or {}).values() if isinstance(v, Ref)]
        return all(role in ref.seen_by for ref in refs)

    def url(self, cast: Cast, unknown: bool = False) -> str:
        maker = self.unknown_kwargs if unknown and self.unknown_kwargs else self.kwargs
        return reverse(self.route, kwargs=maker(cast))

    def body(self, cast: Cast, twin_for: str | None = None) -> Any:
        """The request's body; for a twin, each target the role may not see (every target,
        for a role that sees them all) is replaced by one that does not exist."""
        if self.data is None:
            return None
        refs = [v for v in self.data.values() if isinstance(v, Ref)]
        blind_to_all = twin_for is not None and all(twin_for in r.seen_by for r in refs)
        out: dict[str, Any] = {}
        for name, value in self.data.items():
            if isinstance(value, Ref):
                hidden = twin_for is not None and (blind_to_all or twin_for not in value.seen_by)
                out[name] = value.unknown if hidden else value.get(cast)
            elif callable(value):
                out[name] = value(cast)
            else:
                out[name] = value
        return out

    @property
    def has_twin(self) -> bool:
        refs = [v for v in (self.data or {}).values() if isinstance(v, Ref)]
        return self.unknown_kwargs is not None or bool(refs)


def _pk(attr: str) -> Kw:
    return lambda c: {"pk": getattr(c, attr).pk}


def _job(attr: str) -> Kw:
    return lambda c: {"job_id": getattr(c, attr).pk}


def _slug(attr: str) -> Kw:
    return lambda c: {"slug": getattr(c, attr).slug}


MISSING_PK: Kw = lambda c: {"pk": MISSING}  # noqa: E731
MISSING_JOB: Kw = lambda c: {"job_id": MISSING}  # noqa: E731
MISSING_SLUG: Kw = lambda c: {"slug": "no-such-cluster"}  # noqa: E731

RESULT_FX = frozenset({"firm_user"}) | OFFICIALS_X
RESULT_FY = frozenset({"firm_user"}) | OFFICIALS_Y


def _csv_file(c: Cast) -> SimpleUploadedFile:
    data = CSV.format(code="91110000MA0000000X", name="某公司").encode()
    return SimpleUploadedFile("firms.csv", data, content_type="text/csv")


def _opens(c: Cast) -> str:
    return timezone.localtime().strftime("%Y-%m-%d %H:%M")


def _closes(c: Cast) -> str:
    return (timezone.localtime() + dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M")


CLUSTER_X_SLUG = Ref(lambda c: c.x.slug, OFFICIALS_X, "no-such-cluster")
CLUSTER_Y_SLUG = Ref(lambda c: c.y.slug, OFFICIALS_Y, "no-such-cluster")
CLUSTER_Y_PK = Ref(lambda c: c.y.pk, OFFICIALS_Y, MISSING)
ROUND_Y = Ref(lambda c: c.ry.pk, OFFICIALS_Y, MISSING)
REGION_P = Ref(lambda c: c.province_p.pk, frozenset({"regional_official", "staff"}), MISSING)
REGION_Q = Ref(
    lambda c: c.province_q.pk, frozenset({"outside_regional_official", "staff"}), MISSING
)


def _forbidden_text(c: Cast, role: str) -> list[str]:
    """Names of clusters, firms and rounds outside the role's sight."""
    clusters = {"xanadu": c.x.name_zh, "yonder": c.y.name_zh}
    seen_clusters = {
        "firm_user": {"xanadu", "yonder"},  # F belongs to both
        "other_firm_user": {"xanadu"},
        "cluster_official": {"xanadu"},
        "regional_official": {"xanadu"},
        "other_official": {"yonder"},
        "outside_regional_official": {"yonder"},
        # An assessor sees the firms and rounds of the assessments in their scope; a
        # provider's user, the firms of its projects.
        "assessor": {"xanadu"},
        "outside_assessor": {"yonder"},
        "provider_user": set(),
        "staff": {"xanadu", "yonder"},
        "anonymous": set(),
    }[role]
    firms = {"f": c.f.name, "g": c.g.name, "h": c.h.name}
    seen_firms = {
        "firm_user": {"f"},
        "other_firm_user": {"g"},
        "cluster_official": {"f", "g"},
        "regional_official": {"f", "g"},
        "other_official": {"f", "h"},
        "outside_regional_official": {"f", "h"},
        "assessor": {"f", "g"},
        "outside_assessor": {"f", "h"},
        "provider_user": {"f"},
        "staff": {"f", "g", "h"},
        "anonymous": set(),
    }[role]
    rounds = {"open": c.rx_open.name, "past": c.rx_past.name, "y": c.ry.name}
    seen_rounds = {
        "firm_user": {"open", "past", "y"},
        "other_firm_user": {"open", "past"},
        "cluster_official": {"open", "past"},
        "regional_official": {"open", "past"},
        "other_official": {"y"},
        "outside_regional_official": {"y"},
        "assessor": {"past"},
        "outside_assessor": {"y"},
        "provider_user": set(),
        "staff": {"open", "past", "y"},
        "anonymous": set(),
    }[role]
    return (
        [name for key, name in clusters.items() if key not in seen_clusters]
        + [name for key, name in firms.items() if key not in seen_firms]
        + [name for key, name in rounds.items() if key not in seen_rounds]
    )


# Issue 13: verification_fx (F's result in X) is the assessor of P's to verify.
ASSESSOR_P = frozenset({"assessor"})


def _png_file(c: Cast) -> SimpleUploadedFile:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


ANSWER_PUT = {"value": None, "base_revision": 1}
TARGET_POST = {"level": "L1", "firms": "5", "deadline": "2031-06-30", "industry": ""}


# Issue 13: pages. Who sees programme P, F's project (and provider K), and who runs P.
PROGRAMME_P_SEEN = frozenset(
    {
        "firm_user",
        "cluster_official",
        "other_official",
        "regional_official",
        "outside_regional_official",
        "assessor",
        "provider_user",
        "staff",
    }
)
PROGRAMME_Q_SEEN = frozenset(
    {"other_official", "outside_regional_official", "outside_assessor", "staff"}
)
PROJECT_F_SEEN = frozenset(
    {
        "firm_user",
        "cluster_official",
        "other_official",
        "regional_official",
        "outside_regional_official",
        "provider_user",
        "staff",
    }
)
PROJECT_H_SEEN = frozenset({"other_official", "outside_regional_official", "staff"})
P_MANAGERS = frozenset({"regional_official", "staff"})


def _provider_csv(c: Cast) -> SimpleUploadedFile:
    data = "统一社会信用代码,服务商名称,服务商类型\n91110000MA0000000X,某服务商,系统集成商\n"
    return SimpleUploadedFile("providers.csv", data.encode(), content_type="text/csv")


MATRIX: list[Entry] = [
    # --- gradient/urls.py
    Entry("home", "home", kind="own", forbidden=_forbidden_text),
    Entry("health check", "healthz", kind="public"),
    Entry("set language", "set_language", "post", data={"language": "en"}, kind="public"),
    Entry("log-in page", "login", kind="public"),
    Entry("log-out page", "logout", kind="public"),
    Entry("log out", "logout", "post", kind="public"),
    Entry("password change", "password_change", kind="own"),
    Entry("password change done", "password_change_done", kind="own"),
    Entry("password reset", "password_reset", kind="public"),
    Entry("password reset done", "password_reset_done", kind="public"),
    Entry(
        "password reset link, bad token",
        "password_reset_confirm",
        kwargs=lambda c: {"uidb64": "MQ", "token": "bad-token"},
        kind="public",
    ),
    Entry("password reset complete", "password_reset_complete", kind="public"),
    Entry("API schema", "api-schema", kind="public"),
    Entry("API docs", "api-docs", kind="public"),
    # --- clusters/urls.py
    Entry("my clusters", "clusters:list", kind="own", forbidden=_forbidden_text),
    Entry("register template", "clusters:template", kind="own"),
    Entry(
        "cluster X",
        "clusters:detail",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "cluster Y",
        "clusters:detail",
        kwargs=_slug("y"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "import page of X",
        "clusters:import",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "import into X",
        "clusters:import",
        "post",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        data={"file": _csv_file},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "import into Y",
        "clusters:import",
        "post",
        kwargs=_slug("y"),
        unknown_kwargs=MISSING_SLUG,
        data={"file": _csv_file},
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "commit X's upload",
        "clusters:import_commit",
        "post",
        kwargs=lambda c: {"slug": c.x.slug, "upload_id": c.upload_x.pk},
        unknown_kwargs=lambda c: {"slug": c.x.slug, "upload_id": MISSING},
        allowed=frozenset({"cluster_official"}),  # only the one who uploaded it
    ),
    Entry(
        "commit Y's upload under X's slug",
        "clusters:import_commit",
        "post",
        kwargs=lambda c: {"slug": c.x.slug, "upload_id": c.upload_y.pk},
        unknown_kwargs=lambda c: {"slug": c.x.slug, "upload_id": MISSING},
        allowed=NOBODY,
    ),
    Entry(
        "commit Y's upload",
        "clusters:import_commit",
        "post",
        kwargs=lambda c: {"slug": c.y.slug, "upload_id": c.upload_y.pk},
        unknown_kwargs=lambda c: {"slug": "no-such-cluster", "upload_id": MISSING},
        allowed=frozenset({"other_official"}),
    ),
    Entry(
        "export X",
        "clusters:export",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_X,
    ),
    Entry("API: clusters", "clusters:api-cluster-list", kind="own", forbidden=_forbidden_text),
    Entry(
        "API: firms of X",
        "clusters:api-cluster-firms",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: firms of Y",
        "clusters:api-cluster-firms",
        kwargs=_slug("y"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_Y,
    ),
    # --- assessments/urls.py
    Entry("API: frameworks", "assessments:api-framework-list", kind="own"),
    Entry(
        "API: framework",
        "assessments:api-framework-detail",
        kwargs=lambda c: {"slug": "report-test", "version": "1"},
        kind="own",
    ),
    Entry(
        "API: score",
        "assessments:api-framework-score",
        "post",
        kwargs=lambda c: {"slug": "report-test", "version": "1"},
        data={"answers": {}},
        as_json=True,
        kind="own",
    ),
    Entry("rounds", "assessments:round_list", kind="own", forbidden=_forbidden_text),
    Entry("new round page", "assessments:round_create", kind="own"),
    Entry(
        "open a round for Y",
        "assessments:round_create",
        "post",
        data={
            "cluster": CLUSTER_Y_PK,
            "framework_version": lambda c: c.version_pk,
            "name": "新轮次",
            "opens_at": _opens,
            "closes_at": _closes,
        },
    ),
    Entry(
        "round of X",
        "assessments:round",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "round of Y",
        "assessments:round",
        kwargs=_pk("ry"),
        unknown_kwargs=MISSING_PK,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "invite into X's round",
        "assessments:round",
        "post",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        data={"firm": lambda c: [c.g.pk], "email": "g@example.com"},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "invite every firm not yet invited into X's round",
        "assessments:round",
        "post",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        data={"action": "invite_all"},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "remind in X's round",
        "assessments:round",
        "post",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        data={"action": "remind"},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "remind in Y's round",
        "assessments:round",
        "post",
        kwargs=_pk("ry"),
        unknown_kwargs=MISSING_PK,
        data={"action": "remind"},
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "invitation list of X's round",
        "assessments:round_invitations_xlsx",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "start F's questionnaire",
        "assessments:round_start",
        "post",
        kwargs=lambda c: {"round_pk": c.rx_open.pk, "firm_pk": c.f.pk},
        unknown_kwargs=lambda c: {"round_pk": MISSING, "firm_pk": MISSING},
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "start G's questionnaire in Y's round",
        "assessments:round_start",
        "post",
        kwargs=lambda c: {"round_pk": c.ry.pk, "firm_pk": c.g.pk},
        unknown_kwargs=lambda c: {"round_pk": MISSING, "firm_pk": MISSING},
        allowed=NOBODY,
    ),
    # The invitation token is a bearer credential (whoever holds it may join the firm while
    # the round is open): a guessed token answers like any unknown one.
    Entry(
        "invitation (valid token)",
        "assessments:invitation",
        kwargs=lambda c: {"token": c.invitation_f.token},
        kind="public",
        unchanged=EVERYONE,
    ),
    Entry(
        "invitation (guessed token)",
        "assessments:invitation",
        kwargs=lambda c: {"token": c.invitation_f.token[:-1] + "y"},
        unknown_kwargs=lambda c: {"token": "no-such-token"},
        allowed=NOBODY,
        login_required=False,
    ),
    Entry(
        "accept an expired invitation of G",
        "assessments:invitation",
        "post",
        kwargs=lambda c: {"token": c.expired_invitation_g.token},
        data={"accept": "1"},
        kind="public",
        unchanged=EVERYONE - {"other_firm_user"},  # G's own user may resume
    ),
    Entry(
        "F's draft",
        "assessments:questionnaire",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "F's draft, one part",
        "assessments:questionnaire_dimension",
        kwargs=lambda c: {"pk": c.draft_f.pk, "dimension": c.dimension},
        unknown_kwargs=lambda c: {"pk": MISSING, "dimension": c.dimension},
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "answer in F's draft",
        "assessments:answer",
        "post",
        kwargs=lambda c: {"pk": c.draft_f.pk, "code": c.question},
        unknown_kwargs=lambda c: {"pk": MISSING, "code": c.question},
        data={"value": "", "base_revision": "1"},
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "review F's draft",
        "assessments:review",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "submit F's draft",
        "assessments:review",
        "post",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        data={"confirm": "yes"},
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "result page of F's draft",
        "assessments:result",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "F's result in X",
        "assessments:result",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=RESULT_FX,
    ),
    Entry(
        "F's result in Y",
        "assessments:result",
        kwargs=_pk("result_fy"),
        unknown_kwargs=MISSING_PK,
        allowed=RESULT_FY,
    ),
    Entry("API: assessments", "assessments:api-assessment-list", kind="own"),
    Entry(
        "API: F's draft",
        "assessments:api-assessment-detail",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "API: F's result in X",
        "assessments:api-assessment-detail",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=RESULT_FX,
    ),
    Entry(
        "API: F's result in Y",
        "assessments:api-assessment-detail",
        kwargs=_pk("result_fy"),
        unknown_kwargs=MISSING_PK,
        allowed=RESULT_FY,
    ),
    Entry(
        "API: answer in F's draft",
        "assessments:api-assessment-answer",
        "put",
        kwargs=lambda c: {"pk": c.draft_f.pk, "code": c.question},
        unknown_kwargs=lambda c: {"pk": MISSING, "code": c.question},
        data=ANSWER_PUT,
        as_json=True,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "API: answer in F's result",
        "assessments:api-assessment-answer",
        "put",
        kwargs=lambda c: {"pk": c.result_fx.pk, "code": c.question},
        unknown_kwargs=lambda c: {"pk": MISSING, "code": c.question},
        data=ANSWER_PUT,
        as_json=True,
        allowed=frozenset({"firm_user"}),  # 409: the result is locked
    ),
    # --- the API's rounds, invitations, drafts and results (issue 12)
    Entry("API: rounds", "assessments:api-round-list", kind="own", forbidden=_forbidden_text),
    Entry(
        "API: open a round for Y",
        "assessments:api-round-list",
        "post",
        data={
            "cluster": CLUSTER_Y_SLUG,
            "framework": "report-test",
            "version": "1",
            "name": "新轮次",
            "opens_at": lambda c: timezone.now().isoformat(),
            "closes_at": lambda c: (timezone.now() + dt.timedelta(days=30)).isoformat(),
        },
        as_json=True,
    ),
    Entry(
        "API: X's open round",
        "assessments:api-round-detail",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: Y's round",
        "assessments:api-round-detail",
        kwargs=_pk("ry"),
        unknown_kwargs=MISSING_PK,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "API: close X's open round",
        "assessments:api-round-close",
        "post",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        data={},
        as_json=True,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: invitations of X's open round",
        "assessments:api-round-invitations",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: invite G to X's open round",
        "assessments:api-round-invitations",
        "post",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        data={"firms": lambda c: [c.g.uscc]},
        as_json=True,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: remind the firms of X's open round",
        "assessments:api-round-remind",
        "post",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        data={},
        as_json=True,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: remind G in X's open round",
        "assessments:api-round-remind",
        "post",
        kwargs=_pk("rx_open"),
        unknown_kwargs=MISSING_PK,
        data={"firms": lambda c: [c.g.uscc]},
        as_json=True,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: start or resume a draft in X's open round",
        "assessments:api-assessment-start",
        "post",
        data={
            "round": Ref(
                lambda c: c.rx_open.pk, frozenset({"firm_user", "other_firm_user"}), MISSING
            )
        },
        as_json=True,
    ),
    Entry(
        "API: start a draft in Y's closed round",
        "assessments:api-assessment-start",
        "post",
        data={"round": Ref(lambda c: c.ry.pk, frozenset({"firm_user"}), MISSING)},
        as_json=True,  # F has its result there: resumed, 200
    ),
    Entry(
        "API: answers of F's draft",
        "assessments:api-assessment-answers",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "API: answers of F's result in X",
        "assessments:api-assessment-answers",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "API: save answers in F's draft",
        "assessments:api-assessment-answers",
        "patch",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        data={"answers": lambda c: {c.question: ANSWER_PUT}},
        as_json=True,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "API: put answers in F's draft",
        "assessments:api-assessment-answers",
        "put",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        data={"answers": lambda c: {c.question: ANSWER_PUT}},
        as_json=True,
        allowed=frozenset({"firm_user"}),
    ),
    Entry(
        "API: submit F's draft",
        "assessments:api-assessment-submit",
        "post",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        data={},
        as_json=True,
        allowed=frozenset({"firm_user"}),  # 422: questions unanswered
    ),
    Entry(
        "API: result of F in X",
        "assessments:api-assessment-result",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=RESULT_FX,
    ),
    Entry(
        "API: result of F's draft",
        "assessments:api-assessment-result",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"firm_user"}),  # 409: not submitted
    ),
    Entry(
        "API: results of X's past round as CSV",
        "api-round-results",
        kwargs=lambda c: {"pk": c.rx_past.pk, "fmt": "csv"},
        unknown_kwargs=lambda c: {"pk": MISSING, "fmt": "csv"},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: results of Y's round as XLSX",
        "api-round-results",
        kwargs=lambda c: {"pk": c.ry.pk, "fmt": "xlsx"},
        unknown_kwargs=lambda c: {"pk": MISSING, "fmt": "xlsx"},
        allowed=OFFICIALS_Y,
    ),
    # --- reports/urls.py
    Entry("reports", "report-index", kind="own", forbidden=_forbidden_text),
    Entry(
        "request a report of Y",
        "report-request",
        "post",
        data={"kind": "cluster", "cluster": CLUSTER_Y_SLUG, "language": "en"},
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "request a report of X with Y's round",
        "report-request",
        "post",
        data={"kind": "cluster", "cluster": CLUSTER_X_SLUG, "round": ROUND_Y, "language": "en"},
        allowed=frozenset({"staff"}),  # the only one who sees both: told they do not match
    ),
    Entry(
        "request a report of region Q",
        "report-request",
        "post",
        data={"kind": "region", "region": REGION_Q, "language": "en"},
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    Entry(
        "report job of X",
        "report-job",
        kwargs=_job("job_x"),
        unknown_kwargs=MISSING_JOB,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "report job of Y",
        "report-job",
        kwargs=_job("job_y"),
        unknown_kwargs=MISSING_JOB,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "report job of region P",
        "report-job",
        kwargs=_job("job_p"),
        unknown_kwargs=MISSING_JOB,
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "progress of X's job",
        "report-progress",
        kwargs=_job("job_x"),
        unknown_kwargs=MISSING_JOB,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "download X's report",
        "report-download",
        kwargs=lambda c: {"job_id": c.job_x.pk, "fmt": "pdf"},
        unknown_kwargs=lambda c: {"job_id": MISSING, "fmt": "pdf"},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "download Y's annex",
        "report-download",
        kwargs=lambda c: {"job_id": c.job_y.pk, "fmt": "xlsx"},
        unknown_kwargs=lambda c: {"job_id": MISSING, "fmt": "xlsx"},
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "download region P's report",
        "report-download",
        kwargs=lambda c: {"job_id": c.job_p.pk, "fmt": "pdf"},
        unknown_kwargs=lambda c: {"job_id": MISSING, "fmt": "pdf"},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "dashboard of X",
        "report-dashboard",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "dashboard of Y",
        "report-dashboard",
        kwargs=_slug("y"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "set a target for X",
        "report-target-create",
        "post",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        data={"round": lambda c: c.rx_past.pk, **TARGET_POST},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "set a target for Y",
        "report-target-create",
        "post",
        kwargs=_slug("y"),
        unknown_kwargs=MISSING_SLUG,
        data={"round": lambda c: c.ry.pk, **TARGET_POST},
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "set a target for X with Y's round",
        "report-target-create",
        "post",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        data={"round": lambda c: c.ry.pk, **TARGET_POST},
        allowed=NOBODY,
    ),
    Entry(
        "remove X's target",
        "report-target-remove",
        "post",
        kwargs=lambda c: {"slug": c.x.slug, "target_id": c.target_x.pk},
        unknown_kwargs=lambda c: {"slug": c.x.slug, "target_id": MISSING},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "remove X's target under Y's slug",
        "report-target-remove",
        "post",
        kwargs=lambda c: {"slug": c.y.slug, "target_id": c.target_x.pk},
        unknown_kwargs=lambda c: {"slug": c.y.slug, "target_id": MISSING},
        allowed=NOBODY,
    ),
    # Issue 14: report batches, scoped to the batch's region.
    Entry(
        "request a report batch of region P",
        "report-batch-request",
        "post",
        data={"region": REGION_P, "language": "en"},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "request a report batch of region Q",
        "report-batch-request",
        "post",
        data={"region": REGION_Q, "language": "en"},
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    Entry(
        "report batch of region P",
        "report-batch",
        kwargs=lambda c: {"batch_id": c.batch_p.pk},
        unknown_kwargs=lambda c: {"batch_id": MISSING},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "progress of region P's batch",
        "report-batch-progress",
        kwargs=lambda c: {"batch_id": c.batch_p.pk},
        unknown_kwargs=lambda c: {"batch_id": MISSING},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "download region P's batch zip",
        "report-batch-download",
        kwargs=lambda c: {"batch_id": c.batch_p.pk},
        unknown_kwargs=lambda c: {"batch_id": MISSING},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "regional comparison of P",
        "report-region",
        kwargs=lambda c: {"region_id": c.province_p.pk},
        unknown_kwargs=lambda c: {"region_id": MISSING},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "regional comparison of Q",
        "report-region",
        kwargs=lambda c: {"region_id": c.province_q.pk},
        unknown_kwargs=lambda c: {"region_id": MISSING},
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    Entry(
        "set a target for region P",
        "report-region-target-create",
        "post",
        kwargs=lambda c: {"region_id": c.province_p.pk},
        unknown_kwargs=lambda c: {"region_id": MISSING},
        data={"framework": lambda c: c.target_p.framework.slug, **TARGET_POST},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "set a target for region Q",
        "report-region-target-create",
        "post",
        kwargs=lambda c: {"region_id": c.province_q.pk},
        unknown_kwargs=lambda c: {"region_id": MISSING},
        data={"framework": lambda c: c.target_p.framework.slug, **TARGET_POST},
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    Entry(
        "remove P's target",
        "report-region-target-remove",
        "post",
        kwargs=lambda c: {"region_id": c.province_p.pk, "target_id": c.target_p.pk},
        unknown_kwargs=lambda c: {"region_id": c.province_p.pk, "target_id": MISSING},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "remove P's target under Q's id",
        "report-region-target-remove",
        "post",
        kwargs=lambda c: {"region_id": c.province_q.pk, "target_id": c.target_p.pk},
        unknown_kwargs=lambda c: {"region_id": c.province_q.pk, "target_id": MISSING},
        allowed=NOBODY,
    ),
    Entry(
        "PDF of F's result in X",
        "report-firm-result",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=RESULT_FX,
    ),
    Entry(
        "PDF of F's result in Y",
        "report-firm-result",
        kwargs=_pk("result_fy"),
        unknown_kwargs=MISSING_PK,
        allowed=RESULT_FY,
    ),
    Entry(
        "PDF of F's draft",
        "report-firm-result",
        kwargs=_pk("draft_f"),
        unknown_kwargs=MISSING_PK,
        allowed=NOBODY,
    ),
    Entry(
        "file of F (in X and Y)",
        "reports:firm_file",
        kwargs=_pk("f"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"firm_user"}) | OFFICIALS,
    ),
    Entry(
        "file of G (in X)",
        "reports:firm_file",
        kwargs=_pk("g"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"other_firm_user"}) | OFFICIALS_X,
    ),
    Entry(
        "file of H (in Y)",
        "reports:firm_file",
        kwargs=_pk("h"),
        unknown_kwargs=MISSING_PK,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "API: dashboard of X",
        "api-cluster-dashboard",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: dashboard of Y",
        "api-cluster-dashboard",
        kwargs=_slug("y"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "API: regional comparison of P",
        "api-region-comparison",
        kwargs=lambda c: {"region_id": c.province_p.pk},
        unknown_kwargs=lambda c: {"region_id": MISSING},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "API: regional comparison of Q",
        "api-region-comparison",
        kwargs=lambda c: {"region_id": c.province_q.pk},
        unknown_kwargs=lambda c: {"region_id": MISSING},
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    Entry(
        "API: request a report of Y",
        "api-report-request",
        "post",
        data={"kind": "cluster", "cluster": CLUSTER_Y_SLUG, "language": "en"},
        as_json=True,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "API: request a report of X with Y's round",
        "api-report-request",
        "post",
        data={"kind": "cluster", "cluster": CLUSTER_X_SLUG, "round": ROUND_Y, "language": "en"},
        as_json=True,
        allowed=frozenset({"staff"}),
    ),
    Entry(
        "API: request a report of Y with Y's round",
        "api-report-request",
        "post",
        data={"kind": "cluster", "cluster": CLUSTER_Y_SLUG, "round": ROUND_Y, "language": "en"},
        as_json=True,
        allowed=OFFICIALS_Y,
    ),
    Entry(
        "API: request a report of region Q",
        "api-report-request",
        "post",
        data={"kind": "region", "region": REGION_Q, "language": "en"},
        as_json=True,
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    Entry(
        "API: report job of X",
        "api-report-job",
        kwargs=_job("job_x"),
        unknown_kwargs=MISSING_JOB,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: download X's report",
        "api-report-file",
        kwargs=lambda c: {"job_id": c.job_x.pk, "fmt": "pdf"},
        unknown_kwargs=lambda c: {"job_id": MISSING, "fmt": "pdf"},
        allowed=OFFICIALS_X,
    ),
    Entry(
        "API: download region P's annex",
        "api-report-file",
        kwargs=lambda c: {"job_id": c.job_p.pk, "fmt": "xlsx"},
        unknown_kwargs=lambda c: {"job_id": MISSING, "fmt": "xlsx"},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "API: report job of region P",
        "api-report-job",
        kwargs=_job("job_p"),
        unknown_kwargs=MISSING_JOB,
        allowed=frozenset({"regional_official", "staff"}),
    ),
    # --- issue 13: pages (programmes/urls.py: programmes, projects, providers, the register)
    Entry("programmes", "programmes:list", kind="own", forbidden=_forbidden_text),
    Entry(
        "programme P",
        "programmes:detail",
        kwargs=_pk("programme_p"),
        unknown_kwargs=MISSING_PK,
        allowed=PROGRAMME_P_SEEN,
    ),
    Entry(
        "programme Q",
        "programmes:detail",
        kwargs=_pk("programme_q"),
        unknown_kwargs=MISSING_PK,
        allowed=PROGRAMME_Q_SEEN,
    ),
    Entry(
        "new project in P",
        "programmes:project_create",
        kwargs=_pk("programme_p"),
        unknown_kwargs=MISSING_PK,
        allowed=P_MANAGERS,
    ),
    Entry(
        "create G's project in P",
        "programmes:project_create",
        "post",
        kwargs=_pk("programme_p"),
        unknown_kwargs=MISSING_PK,
        data={"firm": lambda c: c.g.pk, "provider": lambda c: c.provider_k.pk},
        allowed=P_MANAGERS,
    ),
    Entry(
        "new project in Q",
        "programmes:project_create",
        kwargs=_pk("programme_q"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    Entry("our projects", "programmes:my_projects", kind="own", forbidden=_forbidden_text),
    Entry(
        "project of F",
        "programmes:project",
        kwargs=_pk("project_f"),
        unknown_kwargs=MISSING_PK,
        allowed=PROJECT_F_SEEN,
    ),
    Entry(
        "project of H",
        "programmes:project",
        kwargs=_pk("project_h"),
        unknown_kwargs=MISSING_PK,
        allowed=PROJECT_H_SEEN,
    ),
    Entry(
        "edit F's project",
        "programmes:project_edit",
        kwargs=_pk("project_f"),
        unknown_kwargs=MISSING_PK,
        allowed=P_MANAGERS,
    ),
    Entry(
        "save F's project",
        "programmes:project_edit",
        "post",
        kwargs=_pk("project_f"),
        unknown_kwargs=MISSING_PK,
        data={"provider": lambda c: c.provider_k.pk, "title": "改名Falcon"},
        allowed=P_MANAGERS,
    ),
    Entry(
        "move F's project",
        "programmes:project_move",
        "post",
        kwargs=_pk("project_f"),
        unknown_kwargs=MISSING_PK,
        data={"to_stage": "abandoned"},
        allowed=P_MANAGERS,
    ),
    Entry(
        "move H's project",
        "programmes:project_move",
        "post",
        kwargs=_pk("project_h"),
        unknown_kwargs=MISSING_PK,
        data={"to_stage": "abandoned"},
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    Entry(
        "link F's acceptance",
        "programmes:project_link",
        "post",
        kwargs=_pk("project_f"),
        unknown_kwargs=MISSING_PK,
        data={"role": "acceptance", "acceptance-assessment": lambda c: c.result_fy.pk},
        allowed=P_MANAGERS,
    ),
    Entry(
        "rate F's provider",
        "programmes:project_rate",
        "post",
        kwargs=_pk("project_f"),
        unknown_kwargs=MISSING_PK,
        data={"score": "5"},
        allowed=frozenset({"firm_user"}),
    ),
    Entry("providers", "programmes:providers", kind="own", forbidden=_forbidden_text),
    Entry(
        "provider K",
        "programmes:provider",
        kwargs=_pk("provider_k"),
        unknown_kwargs=MISSING_PK,
        allowed=PROJECT_F_SEEN,
    ),
    Entry(
        "provider L",
        "programmes:provider",
        kwargs=_pk("provider_l"),
        unknown_kwargs=MISSING_PK,
        allowed=PROJECT_H_SEEN,
    ),
    Entry(
        "edit provider K",
        "programmes:provider_edit",
        kwargs=_pk("provider_k"),
        unknown_kwargs=MISSING_PK,
        allowed=P_MANAGERS,
    ),
    Entry(
        "save provider K",
        "programmes:provider_edit",
        "post",
        kwargs=_pk("provider_k"),
        unknown_kwargs=MISSING_PK,
        data={
            "uscc": lambda c: c.provider_k.uscc,
            "name": "改名Kestrel",
            "kind": "integrator",
            "region": lambda c: c.province_p.pk,
        },
        allowed=P_MANAGERS,
    ),
    Entry("add a provider", "programmes:provider_create", kind="own", forbidden=_forbidden_text),
    Entry(
        "save a new provider",
        "programmes:provider_create",
        "post",
        data={"uscc": "91110000MA0000000X", "name": "新服务商", "kind": "product"},
        kind="own",
        forbidden=_forbidden_text,
    ),
    Entry("provider import", "programmes:provider_import", kind="own", forbidden=_forbidden_text),
    Entry(
        "check a provider file",
        "programmes:provider_import",
        "post",
        data={"file": _provider_csv},
        kind="own",
        forbidden=_forbidden_text,
    ),
    Entry(
        "confirm an unknown provider import",
        "programmes:provider_import_commit",
        "post",
        kwargs=lambda c: {"token": "0" * 32},
        unknown_kwargs=lambda c: {"token": "f" * 32},
        allowed=NOBODY,
    ),
    Entry("provider template", "programmes:provider_template", kind="own"),
    # --- issue 13: verification (programmes/verification_urls.py)
    Entry("verification work list", "verification:worklist", kind="own", forbidden=_forbidden_text),
    Entry(
        "verify F's result in X (in progress)",
        "verification:verify",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=ASSESSOR_P,
    ),
    Entry(
        "verification of H's result in Y (completed)",
        "verification:verify",
        kwargs=_pk("result_hy"),
        unknown_kwargs=MISSING_PK,
        allowed=frozenset({"outside_assessor"}),
    ),
    Entry(
        "confirm an answer of F's result",
        "verification:finding",
        "post",
        kwargs=lambda c: {"pk": c.result_fx.pk, "code": c.question},
        unknown_kwargs=lambda c: {"pk": MISSING, "code": c.question},
        data={"action": "confirm"},
        allowed=ASSESSOR_P,
    ),
    Entry(
        "attach evidence to F's result",
        "verification:evidence_add",
        "post",
        kwargs=lambda c: {"pk": c.result_fx.pk, "code": c.question},
        unknown_kwargs=lambda c: {"pk": MISSING, "code": c.question},
        data={"file": _png_file},
        allowed=ASSESSOR_P,
    ),
    Entry(
        "visit date of F's verification",
        "verification:visit",
        "post",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        data={"visited_on": "2025-01-02"},
        allowed=ASSESSOR_P,
    ),
    Entry(
        "confirm the rest of F's verification",
        "verification:confirm_rest",
        "post",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=ASSESSOR_P,
    ),
    Entry(
        "complete F's verification",
        "verification:complete",
        "post",
        kwargs=_pk("result_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=ASSESSOR_P,
    ),
    Entry(
        "download evidence of F (in progress)",
        "verification:evidence",
        kwargs=_pk("evidence_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=ASSESSOR_P,
    ),
    Entry(
        "download evidence of H (completed)",
        "verification:evidence",
        kwargs=_pk("evidence_hy"),
        unknown_kwargs=MISSING_PK,
        # The outside assessor (Q), and whoever sees H's result: Y's officials, staff (H has no
        # firm user in the cast; F's user never: F is not H).
        allowed=frozenset({"outside_assessor"}) | OFFICIALS_Y,
    ),
    Entry(
        "remove evidence of F",
        "verification:evidence_remove",
        "post",
        kwargs=_pk("evidence_fx"),
        unknown_kwargs=MISSING_PK,
        allowed=ASSESSOR_P,
    ),
    # --- issue 13: programme report (the officials who run the programme: its region's, and
    # staff; a firm, a provider or an assessor who sees the programme does not get its report)
    Entry(
        "request programme P's report",
        "report-programme-request",
        "post",
        kwargs=lambda c: {"programme_id": c.programme_p.pk},
        unknown_kwargs=lambda c: {"programme_id": MISSING},
        data={"language": "en"},
        allowed=frozenset({"regional_official", "staff"}),
    ),
    Entry(
        "request programme Q's shareable report",
        "report-programme-request",
        "post",
        kwargs=lambda c: {"programme_id": c.programme_q.pk},
        unknown_kwargs=lambda c: {"programme_id": MISSING},
        data={"language": "zh-hans", "shareable": "on"},
        allowed=frozenset({"outside_regional_official", "staff"}),
    ),
    # --- issue 14: audit (reports/downloads.py): a cluster's report downloads
    Entry(
        "report downloads of X",
        "report-downloads",
        kwargs=_slug("x"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_X,
    ),
    Entry(
        "report downloads of Y",
        "report-downloads",
        kwargs=_slug("y"),
        unknown_kwargs=MISSING_SLUG,
        allowed=OFFICIALS_Y,
    ),
]


def _check(entry: Entry, cast: Cast, role: str) -> list[str]:
    """What is wrong with this role's answer to this entry (nothing: an empty list)."""
    user = cast.users[role]
    problems: list[str] = []
    before = snapshot()
    got = send(client_for(user), entry.method, entry.url(cast), entry.body(cast), entry.as_json)
    changed = snapshot() != before
    if got.status >= 500:
        return [f"{got.status} server error"]
    if entry.kind == "public":
        if role in entry.unchanged and changed:
            problems.append("data changed")
        return problems

    def twin() -> Answered:
        return send(
            client_for(user),
            entry.method,
            entry.url(cast, unknown=True),
            entry.body(cast, twin_for=role),
            entry.as_json,
        )

    if role == "anonymous" and entry.login_required:
        if not (got.to_login or got.status in (401, 403)):
            problems.append(f"anonymous got {got.status} {got.location}, not a log-in demand")
        if changed:
            problems.append("anonymous changed data")
        if entry.has_twin and twin().status != got.status:
            problems.append("anonymous: the answer differs when the target is unknown")
        return problems
    if entry.kind == "own":
        texts = entry.forbidden(cast, role) if entry.forbidden else []
        shown = [t for t in texts if t in got.body]
        if shown:
            problems.append(f"shows {shown} outside the scope")
        return problems
    other = twin()
    if entry.may(role):
        if (got.status, got.body) == (other.status, other.body):
            problems.append(f"in scope, but answered like an unknown target ({got.status})")
        return problems
    if 200 <= got.status < 400:
        problems.append(f"out of scope, answered {got.status} {got.location}")
    if (got.status, got.body) != (other.status, other.body):
        problems.append(
            f"out of scope answered {got.status} {got.body[:300]!r}; "
            f"unknown answered {other.status} {other.body[:300]!r}"
        )
    if changed:
        problems.append("out of scope, and data changed")
    return problems


@pytest.mark.parametrize("entry", MATRIX, ids=[e.label for e in MATRIX])
def test_matrix(entry: Entry, cast: Cast) -> None:
    """Every role against one entry; each role's attempt is rolled back before the next."""
    failures = {}
    for role in ROLES:
        with transaction.atomic():
            problems = _check(entry, cast, role)
            transaction.set_rollback(True)
        if problems:
            failures[role] = problems
    assert not failures, f"{entry.label} ({entry.method.upper()} {entry.route}): {failures}"


# --- Coverage: every named route has an entry -----------------------------------------------

# Django's admin is covered by `test_admin_is_for_staff_only` below.
ADMIN = "admin"


def _named_routes(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    resolver = resolver or get_resolver()
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            space = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _named_routes(pattern, space)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_named_route_is_in_the_matrix() -> None:
    covered = {entry.route for entry in MATRIX}
    missing = {
        name for name in _named_routes() if name not in covered and not name.startswith(f"{ADMIN}:")
    }
    assert not missing, f"routes without a permission-matrix entry: {sorted(missing)}"
    methods = {(e.route, e.method) for e in MATRIX}
    writes = {
        "clusters:import",
        "clusters:import_commit",
        "assessments:round_create",
        "assessments:round",
        "assessments:round_start",
        "assessments:invitation",
        "assessments:answer",
        "assessments:review",
        "assessments:api-assessment-answer",
        "assessments:api-framework-score",
        "report-request",
        "report-target-create",
        "report-target-remove",
        "report-region-target-create",
        "report-region-target-remove",
        "report-programme-request",
        "api-report-request",
        "assessments:api-round-list",
        "assessments:api-round-close",
        "assessments:api-round-invitations",
        "assessments:api-round-remind",
        "assessments:api-assessment-start",
        "assessments:api-assessment-answers",
        "assessments:api-assessment-submit",
        "logout",
        "set_language",
    }
    assert all(any(r == route and m != "get" for r, m in methods) for route in writes)


def test_admin_is_for_staff_only(cast: Cast) -> None:
    """Every admin page of every registered model: only staff get in."""
    urls = [reverse("admin:index")]
    for model, _model_admin in admin.site._registry.items():
        meta = model._meta
        urls.append(reverse("admin:app_list", kwargs={"app_label": meta.app_label}))
        base = f"admin:{meta.app_label}_{meta.model_name}"
        urls += [reverse(f"{base}_changelist"), reverse(f"{base}_add")]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            for suffix in ("change", "delete", "history"):
                urls.append(reverse(f"{base}_{suffix}", args=[first.pk]))
    login = reverse("admin:login")
    for role in ROLES:
        client = client_for(cast.users[role])
        for url in urls:
            response = client.get(url)
            if role == "staff":
                assert response.status_code < 500, (role, url, response.status_code)
            else:
                assert response.status_code == 302, (role, url, response.status_code)
                assert response["Location"].startswith(login), (role, url)


# --- The specific findings of issue 8 -------------------------------------------------------


def test_official_of_x_does_not_see_fs_result_from_ys_round(cast: Cast) -> None:
    """F belongs to X and Y; its result in Y's round is not X's official's business."""
    client = client_for(cast.users["cluster_official"])
    api = client.get(reverse("assessments:api-assessment-detail", args=[cast.result_fy.pk]))
    assert api.status_code == 404
    page = client.get(reverse("assessments:result", args=[cast.result_fy.pk]))
    assert page.status_code == 404
    pdf = client.get(reverse("report-firm-result", args=[cast.result_fy.pk]))
    assert pdf.status_code == 404
    listed = client.get(reverse("assessments:api-assessment-list")).json()["results"]
    assert {row["id"] for row in listed} == {cast.result_fx.pk, cast.result_gx.pk}
    # Its own round's result of the same firm stays open to it.
    ok = client.get(reverse("assessments:api-assessment-detail", args=[cast.result_fx.pk]))
    assert ok.status_code == 200


def test_result_page_of_x_does_not_compare_with_ys_round(cast: Cast) -> None:
    """The earlier result shown next to F's result is one the viewer may see: for X's
    official F's result in X's past round, never the later one in Y's round."""
    import random

    from assessments import selectors
    from assessments.versions import framework_for

    version = cast.rx_past.framework_version
    fw = framework_for(version)
    later = make_round(cast.x, version, name="轮次Later", opens=timezone.now())
    [(result, _)] = submit_many(later, fw, [cast.f], [answers_for(fw, 0.5, random.Random(3))])
    official = cast.users["cluster_official"]
    assert selectors.previous_assessment(official, result).pk == cast.result_fx.pk
    assert selectors.previous_assessment(cast.users["firm_user"], result).pk == cast.result_fy.pk
    page = client_for(official).get(reverse("assessments:result", args=[result.pk]))
    assert page.status_code == 200 and cast.ry.name not in page.content.decode()


def test_assessment_lists_per_role(cast: Cast) -> None:
    """What /api/assessments/ lists for each role."""
    expected = {
        "firm_user": {cast.draft_f, cast.result_fx, cast.result_fy},
        "other_firm_user": {cast.result_gx},
        "cluster_official": {cast.result_fx, cast.result_gx},
        "regional_official": {cast.result_fx, cast.result_gx},
        "other_official": {cast.result_fy, cast.result_hy},
        "outside_regional_official": {cast.result_fy, cast.result_hy},
        "staff": {cast.result_fx, cast.result_gx, cast.result_fy, cast.result_hy},
        # Assessors verify through their own pages; the assessments API is not theirs.
        "assessor": set(),
        "outside_assessor": set(),
        "provider_user": set(),
    }
    for role, rows in expected.items():
        listed = client_for(cast.users[role]).get(reverse("assessments:api-assessment-list"))
        assert {r["id"] for r in listed.json()["results"]} == {a.pk for a in rows}, role


@pytest.mark.parametrize("api", [True, False], ids=["api", "page"])
def test_report_request_outside_scope_answers_like_unknown(cast: Cast, api: bool) -> None:
    """A cluster, round or region outside the scope is answered exactly as an unknown one."""
    client = client_for(cast.users["cluster_official"])
    route = "api-report-request" if api else "report-request"
    cases = [
        ({"kind": "cluster", "cluster": cast.y.slug}, {"kind": "cluster", "cluster": "nope"}),
        (
            {"kind": "cluster", "cluster": cast.x.slug, "round": cast.ry.pk},
            {"kind": "cluster", "cluster": cast.x.slug, "round": MISSING},
        ),
        ({"kind": "region", "region": cast.province_q.pk}, {"kind": "region", "region": MISSING}),
    ]
    for outside, unknown in cases:
        answers = [
            send(client, "post", reverse(route), {"language": "en", **body}, api)
            for body in (outside, unknown)
        ]
        assert answers[0].status == answers[1].status, (outside, answers)
        assert answers[0].body == answers[1].body, (outside, answers)
        assert answers[0].status in ((404,) if api else (400,)), answers[0]
    assert not ReportJob.objects.exclude(pk__in=[cast.job_x.pk, cast.job_y.pk, cast.job_p.pk])


def test_report_service_refuses_out_of_scope_as_not_found(cast: Cast) -> None:
    """The service itself (which the CLI-free callers share) says "no such …", never "denied"."""
    from reports import services

    official = cast.users["cluster_official"]
    with pytest.raises(services.ReportTargetNotFound):
        services.report_request(official, kind="cluster", language="en", cluster=cast.y)
    with pytest.raises(services.ReportTargetNotFound):
        services.report_request(
            official, kind="cluster", language="en", cluster=cast.x, round_=cast.ry
        )
    with pytest.raises(services.ReportTargetNotFound):
        services.report_request(official, kind="region", language="en", region=cast.province_p)
