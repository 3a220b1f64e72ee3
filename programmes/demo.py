"""Demo data of the transformation programme (`manage.py seed_demo`, after the assessments).

A pilot-city programme on the MIIT 2024 indicators (miit-sme 2024.1) in the city of the demo
official's cluster (Jinhua, for the default register): eight service providers of the three
kinds, retrofit projects in every stage over the city's assessed firms, baselines taken from
the demo's rounds, acceptance ratings in a later round of their own with level gains that look
real (most +1, some 0, a few +2), stage changes with dates and actors, the firms' ratings of
their providers, two assessors (one for the region, one for the programme) with completed
on-site verifications (some confirming, some changing 1–3 answers with reasons and evidence
files generated here), one verification in progress, and a provider's user.

Rules go through the services (`project_create`, `project_link`, `project_move`,
`verification_*`), so the demo obeys every rule the pages obey and its stage changes, findings
and ratings reach the audit trail like real ones; bulk rows (acceptance assessments and their
answers) are written in the shape `assessments.demo` writes. Deterministic for a seed, except
the dates, which are placed around today like the rounds'.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import struct
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from auditlog.context import disable_auditlog, set_actor
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments import scoring
from assessments.demo import answers_for
from assessments.framework import Framework, builtin_framework_paths, load_framework_file
from assessments.models import Answer, Assessment, FrameworkVersion, Invitation, Round
from assessments.services import invitation_token, result_fields_set, results_bulk_store
from assessments.versions import framework_for, framework_version_load
from clusters import uscc
from clusters.models import Cluster, Firm, FirmMember, Region
from programmes import services
from programmes.models import (
    AssessorScope,
    Evidence,
    Programme,
    Provider,
    ProviderMember,
    ProviderRating,
    RetrofitProject,
    Verification,
)

PROGRAMME_SLUG = "demo-pilot-city"
FRAMEWORK_SLUG = "miit-sme"
FRAMEWORK_VERSION = "2024.1"
MAX_PROJECTS = 64
Stage = RetrofitProject.Stage

PROGRAMME_USERS = [
    # (username, password, role description shown on screen)
    ("demo_assessor", "demo-assessor-1", _("assessor (region)")),
    ("demo_assessor_p", "demo-assessor-p-1", _("assessor (programme)")),
    ("demo_provider", "demo-provider-1", _("service provider user")),
]

# (kind, name, products, contact person, e-mail, telephone, regions served beyond the city)
PROVIDERS = [
    (
        Provider.Kind.CHAIN_LEADER,
        "浙江永康五金城数字科技有限公司",
        "五金产业链协同平台：集中采购、订单共享、质量追溯；面向配套企业的轻量 ERP 接入。",
        "王建国",
        "wang.jianguo@wjc-digital.example.com",
        "0579-87123456",
        ["province"],
    ),
    (
        Provider.Kind.CHAIN_LEADER,
        "金华智链工业互联网有限公司",
        "电动工具产业链工业互联网平台，上下游计划协同，供应商门户与库存共享。",
        "陈丽华",
        "chenlihua@zhilian-iiot.example.com",
        "13857912345",
        [],
    ),
    (
        Provider.Kind.INTEGRATOR,
        "杭州云栖智造系统集成有限公司",
        "MES 实施、设备联网与数据采集、车间看板、ERP 与 MES 集成。",
        "李志强",
        "lizhiqiang@yunqi-mfg.example.com",
        "0571-86543210",
        ["province"],
    ),
    (
        Provider.Kind.INTEGRATOR,
        "金华精工数控信息技术有限公司",
        "数控设备联网（DNC/MDC）、生产排程、刀具与工艺管理。",
        "周敏",
        "zhoumin@jgcnc.example.com",
        "0579-82261188",
        [],
    ),
    (
        Provider.Kind.INTEGRATOR,
        "宁波甬信智能制造工程有限公司",
        "ERP 与 MES 一体化实施、智能仓储、条码与批次追溯。",
        "吴海峰",
        "wuhaifeng@yongxin-im.example.com",
        "13967854321",
        ["province"],
    ),
    (
        Provider.Kind.PRODUCT,
        "义乌轻舟云软件有限公司",
        "轻量化 SaaS：进销存、移动报工、订单跟踪，按年订阅。",
        "郑晓燕",
        "zhengxiaoyan@qingzhou-cloud.example.com",
        "400-826-5588",
        [],
    ),
    (
        Provider.Kind.PRODUCT,
        "金华点云质检科技有限公司",
        "AI 视觉质检一体机：表面缺陷识别、尺寸测量，检测数据上传质量系统。",
        "徐斌",
        "xubin@dianyun-qc.example.com",
        "15888990123",
        [],
    ),
    (
        Provider.Kind.PRODUCT,
        "浙江速维设备云科技有限公司",
        "设备预测性维护与能耗监测 SaaS：传感器套件、告警、维保工单。",
        "黄婷",
        "huangting@suwei-cloud.example.com",
        "0579-89012345",
        ["province"],
    ),
]
# How many projects each provider tends to win (integrators run most retrofits).
PROVIDER_WEIGHTS = [1.2, 1.0, 2.4, 1.8, 1.6, 1.3, 1.0, 0.9]
# The provider of the demo provider user (杭州云栖智造).
MEMBER_PROVIDER = 2

# Retrofit themes: a title and the scene group whose scenes it targets.
THEMES = [
    ("PE", "生产执行数字化改造：设备联网与 MES"),
    ("PE", "车间数据采集与生产看板改造"),
    ("PE", "质量检测与追溯数字化改造"),
    ("SC", "采购与仓储物流数字化改造"),
    ("SC", "供应链协同平台接入"),
    ("LC", "产品研发设计数字化改造"),
    ("MD", "经营管理一体化改造：ERP 与财务业务协同"),
    ("MD", "数据驾驶舱与经营决策改造"),
]

ABANDON_NOTES = [
    "企业订单下滑，资金安排调整，双方协商终止项目。",
    "企业厂房搬迁，改造暂缓，项目终止。",
    "企业与服务商在实施范围上未达成一致，项目终止。",
]
RATING_COMMENTS = [
    "实施团队驻场及时，系统上线后报工效率明显提升。",
    "整体满意，培训可以再细一些。",
    "设备联网稳定，看板数据与实际一致。",
    "项目延期约一个月，但最终效果达到预期。",
    "售后响应快，二期改造还会考虑合作。",
    "部分功能与我们的工艺不太匹配，做了较多二次开发。",
    "",
    "",
]
DOWN_REASONS = [
    "现场查看：系统只在一条产线试用，其余产线仍用纸质单据，按低一级认定。",
    "现场抽查近三个月数据，仍有较多人工补录，未达到自评等级的要求。",
    "企业提供的截图为试用环境，生产环境尚未上线，按低一级认定。",
    "相关业务数据分散在多个表格中，未实现系统内闭环，按低一级认定。",
    "访谈负责人确认该功能尚在实施中，暂不计入。",
]
UP_REASONS = [
    "现场演示显示该场景已实现系统管理与数据在线采集，企业自评偏保守，按高一级认定。",
    "查看系统日志与报表，数据已自动汇总并用于排产，按高一级认定。",
]


@dataclass
class DemoProgramme:
    """What `seed_programme` made."""

    created: bool
    providers: int = 0
    projects: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    acceptances: int = 0
    ratings: int = 0
    verifications: int = 0
    changed_answers: int = 0
    evidence: int = 0
    logins: list[tuple[str, str, object]] = field(default_factory=list)


# --- Files for the evidence -------------------------------------------------------------------


def demo_png(rng: random.Random, width: int = 48, height: int = 32) -> bytes:
    """A small RGB PNG, a "photo" of coloured bands with noise (generated, no files)."""
    base = [rng.randrange(60, 200) for _ in range(3)]
    noise = rng.randbytes(width * height * 3)
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type 0 for each scanline
        for x in range(width):
            band = (x * 4 // width + y * 3 // height) % 3
            for c in range(3):
                jitter = noise[(y * width + x) * 3 + c] % 25 - 12
                value = base[c] + (40 if c == band else -20) + jitter
                row.append(max(0, min(255, value)))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def demo_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with the given (ASCII) lines of text, built by hand."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 12 Tf 72 760 Td 16 TL " + " ".join(f"({escape(line)}) Tj T*" for line in lines)
    stream = (text + " ET").encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --- Helpers ----------------------------------------------------------------------------------


def _version() -> FrameworkVersion:
    """The published MIIT 2024.1 version, loaded from the built-in file if it is missing."""
    found = FrameworkVersion.objects.published().filter(
        framework__slug=FRAMEWORK_SLUG, version=FRAMEWORK_VERSION
    )
    version = found.first()
    if version is not None:
        return version
    for path in builtin_framework_paths():
        parsed = load_framework_file(path)
        if parsed.slug == FRAMEWORK_SLUG and parsed.version == FRAMEWORK_VERSION:
            return framework_version_load(parsed, publish=True)[0]
    raise LookupError(f"the built-in framework {FRAMEWORK_SLUG} {FRAMEWORK_VERSION} is missing")


def provider_uscc(index: int, region_code: str, seed: int) -> str:
    """A valid USCC for the index-th demo provider (never one of the demo firms' codes)."""
    n = (index * 918_273 + seed * 7_919 + 5_555_555) % 31**7
    chars = []
    for _position in range(7):
        n, digit = divmod(n, 31)
        chars.append(uscc.ALPHABET[digit])
    # "PR" instead of the firms' "MA" keeps the two sets of codes apart.
    body = "91" + region_code + "PR" + "".join(reversed(chars))
    return body + uscc.check_character(body)


def _users() -> dict[str, Any]:
    """The programme's demo accounts, with their passwords (hashed side by side: PBKDF2 takes
    most of a second each and releases the GIL)."""
    user_model = get_user_model()
    with ThreadPoolExecutor(max_workers=len(PROGRAMME_USERS)) as pool:
        hashes = list(pool.map(make_password, [password for _n, password, _r in PROGRAMME_USERS]))
    users = {}
    for (username, _password, _role), hashed in zip(PROGRAMME_USERS, hashes, strict=True):
        user = user_model.objects.filter(username=username).first() or user_model(
            username=username, email=f"{username}@example.com"
        )
        user.is_active = True
        user.password = hashed
        user.save()
        users[username] = user
    return users


def _city_of(cluster: Cluster) -> Region:
    """The city of the cluster's region (the region itself when it is a city or above)."""
    region = cluster.region
    while region.level == "county" and region.parent_id is not None:
        region = Region.objects.get(pk=region.parent_id)
    return region


def _times(rng: random.Random, start: dt.datetime, end: dt.datetime, n: int) -> list[dt.datetime]:
    """n sorted moments strictly between start and end, to the second."""
    span = max((end - start).total_seconds(), float(n + 1))
    points = sorted(rng.uniform(0.05, 0.95) for _ in range(n))
    return [(start + dt.timedelta(seconds=span * p)).replace(microsecond=0) for p in points]


def _level_values(fw: Framework, code: str) -> list[Any]:
    return [c.value for c in fw.question(code).levels]


def _answers_at(
    fw: Framework,
    rank: int,
    baseline: dict[str, Any],
    targeted: list[str],
    rng: random.Random,
) -> tuple[dict[str, Any], scoring.Result]:
    """Answers that score exactly at level `rank`, with the targeted scenes at least one step
    above the baseline where the framework allows (closest rank if none hits exactly)."""
    best: tuple[int, dict[str, Any], scoring.Result] | None = None
    # Start from a maturity typical of the level and walk towards it: a few scorings each.
    m = (0.12, 0.3, 0.5, 0.72, 0.92)[max(0, min(4, rank))]
    for _attempt in range(60):
        answers = answers_for(fw, m, rng)
        for code in targeted:
            values = _level_values(fw, code)
            before = baseline.get(code)
            if before in values:
                lifted = values[min(len(values) - 1, values.index(before) + 1)]
                if answers.get(code) not in values or values.index(answers[code]) < values.index(
                    lifted
                ):
                    answers[code] = lifted
        applicable = scoring.applicable(fw, answers)
        answers = {c: v for c, v in answers.items() if c in applicable}
        if scoring.missing_required(fw, answers) or scoring.check_answers(fw, answers):
            continue
        result = scoring.score(fw, answers)
        got = fw.level_rank(result.level)
        if got == rank:
            return answers, result
        if best is None or abs(got - rank) < abs(best[0] - rank):
            best = (got, answers, result)
        m = min(1.0, max(0.0, m + (0.03 if got < rank else -0.03)))
    assert best is not None
    return best[1], best[2]


def _round(
    cluster: Cluster, version: FrameworkVersion, name: str, opens: dt.datetime, closes: dt.datetime
) -> Round:
    return Round.objects.create(
        cluster=cluster, framework_version=version, name=name, opens_at=opens, closes_at=closes
    )


def _firm_cluster(firm: Firm, clusters: list[Cluster], city: Region) -> Cluster:
    """The firm's first demo cluster in the city (the one its acceptance round belongs to)."""
    ids = set(firm.memberships.values_list("cluster_id", flat=True))
    for cluster in clusters:
        if cluster.pk in ids and cluster.region.path.startswith(city.path):
            return cluster
    return next(c for c in clusters if c.pk in ids)


# --- The seeding ------------------------------------------------------------------------------


@transaction.atomic
def seed_programme(
    *, clusters: list[Cluster], seed: int = 1, created: bool = True
) -> DemoProgramme:
    """Create the demo programme with its providers, projects, assessments and verifications.

    Does nothing when the register was already there (`created` False), when the programme
    exists, or when the register has no cluster.
    """
    if not created or not clusters or Programme.objects.filter(slug=PROGRAMME_SLUG).exists():
        return DemoProgramme(created=False, logins=list(PROGRAMME_USERS))
    rng = random.Random(seed * 104_729 + 13)
    version = _version()
    fw = framework_for(version)
    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate()
    home = clusters[0]
    city = _city_of(home)
    province = Region.objects.get(pk=int(city.path.strip("/").split("/")[0]))
    summary = DemoProgramme(created=True, logins=list(PROGRAMME_USERS))
    official = get_user_model().objects.filter(username="demo_region").first()

    # Baselines: each city firm's first submitted assessment on the programme's version.
    submitted = (
        Assessment.objects.submitted()
        .filter(framework_version=version, firm__region__path__startswith=city.path)
        .select_related("firm")
        .order_by("firm_id", "submitted_at", "pk")
    )
    baselines: dict[int, Assessment] = {}
    for assessment in submitted:
        baselines.setdefault(assessment.firm_id, assessment)
    city_firms = list(
        Firm.objects.filter(region__path__startswith=city.path).order_by("pk")[: MAX_PROJECTS * 3]
    )
    if not baselines and city_firms:
        baselines = _baseline_round(fw, version, home, city_firms[:MAX_PROJECTS], rng, now)
    earliest = min((a.submitted_at or now for a in baselines.values()), default=now)
    programme = Programme.objects.create(
        slug=PROGRAMME_SLUG,
        name_zh=f"{city.name_zh}中小企业数字化转型试点城市",
        name_en=f"{city.name_en} SME digital transformation pilot city",
        region=city,
        framework_version=version,
        starts_on=(earliest - dt.timedelta(days=20)).date(),
        ends_on=max(dt.date(2027, 12, 31), today + dt.timedelta(days=365)),
        target_level="L2",
        target_firms=0,  # set below from the number of projects
        target_date=max(dt.date(2027, 6, 30), today + dt.timedelta(days=180)),
    )

    providers = _providers(city, province, seed)
    summary.providers = len(providers)
    users = _users()
    ProviderMember.objects.get_or_create(
        user=users["demo_provider"], provider=providers[MEMBER_PROVIDER]
    )
    AssessorScope.objects.get_or_create(
        user=users["demo_assessor"], region=city, organisation=f"{city.name_zh}数字化评测中心"
    )
    AssessorScope.objects.get_or_create(
        user=users["demo_assessor_p"],
        programme=programme,
        organisation="浙江省中小企业数字化评测服务中心",
    )

    demo_firm_ids = set(
        FirmMember.objects.filter(user__username="demo_firm").values_list("firm_id", flat=True)
    )
    # The project firms: the demo firm first (an accepted project it can rate), then others.
    candidates = sorted(baselines, key=lambda pk: (pk not in demo_firm_ids, pk))
    rest = candidates[1:]
    chosen = candidates[:1] + sorted(rng.sample(rest, min(len(rest), MAX_PROJECTS - 1)))
    acceptance_opens = now - dt.timedelta(days=40)
    stages = _stage_plan(rng, chosen, baselines, demo_firm_ids, acceptance_opens)

    # Acceptance ratings, in a later round of each firm's cluster, written in bulk.
    needs_acceptance = [pk for pk in chosen if stages[pk] in (Stage.DELIVERED, Stage.ACCEPTED)]
    themes = {pk: THEMES[rng.randrange(len(THEMES))] for pk in chosen}
    targets = {pk: _targets(fw, themes[pk][0], rng) for pk in chosen}
    acceptances = _acceptance_round(
        fw,
        version,
        clusters,
        city,
        [baselines[pk] for pk in needs_acceptance],
        targets,
        rng,
        acceptance_opens,
        now,
    )
    summary.acceptances = len(acceptances)

    provider_quality = [rng.uniform(3.4, 4.7) for _ in providers]
    projects: list[RetrofitProject] = []
    for firm_pk in chosen:
        baseline = baselines[firm_pk]
        index = rng.choices(range(len(providers)), PROVIDER_WEIGHTS)[0]
        provider = providers[index]
        with disable_auditlog():  # the stage changes are the record of the demo's moves
            project = _project(
                programme,
                baseline,
                provider,
                stages[firm_pk],
                acceptances.get(firm_pk),
                themes[firm_pk][1],
                targets[firm_pk],
                rng,
                now,
                official,
                users["demo_provider"] if index == MEMBER_PROVIDER else None,
            )
        projects.append(project)
        summary.stages[project.stage] += 1
        if project.stage == Stage.ACCEPTED and firm_pk not in demo_firm_ids and rng.random() < 0.85:
            score = round(provider_quality[index] + rng.gauss(0, 0.7))
            ProviderRating.objects.create(
                project=project,
                score=max(1, min(5, score)),
                comment=rng.choice(RATING_COMMENTS),
                rated_by=None,  # the demo firms have no users of their own
                rated_at=min(
                    now, (project.accepted_at or now) + dt.timedelta(days=rng.randint(1, 9))
                ),
            )
            summary.ratings += 1
    summary.projects = len(projects)
    programme.target_firms = max(1, math.ceil(len(projects) * 0.6))
    programme.save(update_fields=["target_firms"])

    _verifications(fw, projects, users, demo_firm_ids, rng, now, summary)
    return summary


def _providers(city: Region, province: Region, seed: int) -> list[Provider]:
    rows = []
    for i, (kind, name, products, person, email, phone, extra) in enumerate(PROVIDERS):
        provider = Provider.objects.create(
            uscc=provider_uscc(i, city.code or "000000", seed),
            name=name,
            kind=kind,
            products=products,
            region=city,
            contact_person=person,
            contact_email=email,
            contact_phone=phone,
        )
        served = [city, *([province] if "province" in extra else [])]
        provider.regions_served.set(served)
        rows.append(provider)
    return rows


def _targets(fw: Framework, group: str, rng: random.Random) -> list[str]:
    """2–3 scenes of the theme's group (and sometimes one more), in framework order."""
    scenes = [q.code for q in fw.questions if "scene" in q.tags]
    own = [c for c in scenes if c.startswith(group)] or scenes
    picked = set(rng.sample(own, min(len(own), rng.randint(2, 3))))
    if rng.random() < 0.3:
        picked.add(rng.choice(scenes))
    return [c for c in scenes if c in picked]


def _stage_plan(
    rng: random.Random,
    chosen: list[int],
    baselines: dict[int, Assessment],
    demo_firm_ids: set[int],
    acceptance_opens: dt.datetime,
) -> dict[int, str]:
    """Each project's stage: every stage present, about a third accepted. Delivered and
    accepted projects need a baseline submitted before the acceptance round."""
    early = [
        pk for pk in chosen if (baselines[pk].submitted_at or acceptance_opens) < acceptance_opens
    ]
    plan: dict[int, str] = {}
    stages = [Stage.DIAGNOSED, Stage.CONTRACTED, Stage.IN_PROGRESS, Stage.ABANDONED]
    weights = [0.2, 0.2, 0.45, 0.15]
    late_first = [pk for pk in chosen if pk not in set(early)] + early
    # First one of each stage, so that every stage shows even in a small demo.
    for pk in chosen:
        if pk in demo_firm_ids and pk in early:
            plan[pk] = Stage.ACCEPTED
    for stage in (Stage.DELIVERED, Stage.ACCEPTED):
        for pk in early:
            if pk not in plan:
                plan[pk] = stage
                break
    for stage in stages:
        for pk in late_first:
            if pk not in plan:
                plan[pk] = stage
                break
    for pk in chosen:
        if pk in plan:
            continue
        if pk in early and rng.random() < 0.6:
            plan[pk] = Stage.ACCEPTED if rng.random() < 0.72 else Stage.DELIVERED
        else:
            plan[pk] = rng.choices(stages, weights)[0]
    return plan


def _submit_rows(
    fw: Framework,
    version: FrameworkVersion,
    planned: list[tuple[Round, Firm, dict[str, Any], scoring.Result, dt.datetime]],
) -> dict[int, Assessment]:
    """Write submitted assessments with their answers and results (as assessments.demo does)."""
    rows = []
    for round_, firm, _answers, result, submitted_at in planned:
        assessment = Assessment(
            round=round_,
            firm=firm,
            framework_version=version,
            status=Assessment.Status.SUBMITTED,
            submitted_at=submitted_at,
        )
        result_fields_set(assessment, fw, result)
        rows.append(assessment)
    rows = Assessment.objects.bulk_create(rows)
    Invitation.objects.bulk_create(
        [
            Invitation(round=r, firm=f, token=invitation_token(), sent_at=r.opens_at)
            for r, f, *_rest in planned
        ],
        ignore_conflicts=True,
    )
    Answer.objects.bulk_create(
        [
            Answer(assessment=assessment, question_code=code, value=value)
            for assessment, (_r, _f, answers, _res, _t) in zip(rows, planned, strict=True)
            for code, value in answers.items()
        ]
    )
    results_bulk_store(
        [(a, fw, p[3]) for a, p in zip(rows, planned, strict=True)], fields_saved=True
    )
    return {a.firm_id: a for a in rows}


def _baseline_round(
    fw: Framework,
    version: FrameworkVersion,
    cluster: Cluster,
    firms: list[Firm],
    rng: random.Random,
    now: dt.datetime,
) -> dict[int, Assessment]:
    """A diagnosis round of the programme's own, when the demo's rounds are on another
    version of the framework: the baselines of the project firms."""
    opens = now - dt.timedelta(days=330)
    round_ = _round(cluster, version, "转型计划诊断评测", opens, opens + dt.timedelta(days=60))
    planned = []
    for firm in firms:
        answers = answers_for(fw, rng.uniform(0.15, 0.6), rng)
        planned.append(
            (
                round_,
                firm,
                answers,
                scoring.score(fw, answers),
                opens + dt.timedelta(days=rng.uniform(1, 55)),
            )
        )
    return _submit_rows(fw, version, planned)


def _acceptance_round(
    fw: Framework,
    version: FrameworkVersion,
    clusters: list[Cluster],
    city: Region,
    baselines: list[Assessment],
    targets: dict[int, list[str]],
    rng: random.Random,
    opens: dt.datetime,
    now: dt.datetime,
) -> dict[int, Assessment]:
    """The acceptance ratings: most one level up on the baseline, some level, a few two up."""
    if not baselines:
        return {}
    rounds: dict[int, Round] = {}
    planned = []
    top = len(fw.levels)
    answers_of: dict[int, dict[str, Any]] = {}
    for row in Answer.objects.filter(assessment__in=baselines).values_list(
        "assessment_id", "question_code", "value"
    ):
        answers_of.setdefault(row[0], {})[row[1]] = row[2]
    for baseline in baselines:
        cluster = _firm_cluster(baseline.firm, clusters, city)
        if cluster.pk not in rounds:
            rounds[cluster.pk] = _round(
                cluster,
                version,
                f"{opens.year} 年转型计划验收评测",
                opens,
                now + dt.timedelta(days=30),
            )
        gain = rng.choices([1, 0, 2], [0.65, 0.2, 0.15])[0]
        rank = min(top, (baseline.level_rank or 0) + gain)
        answers, result = _answers_at(
            fw, rank, answers_of.get(baseline.pk, {}), targets[baseline.firm_id], rng
        )
        submitted_at = opens + dt.timedelta(days=rng.uniform(2, 28))
        planned.append((rounds[cluster.pk], baseline.firm, answers, result, submitted_at))
    return _submit_rows(fw, version, planned)


def _project(
    programme: Programme,
    baseline: Assessment,
    provider: Provider,
    stage: str,
    acceptance: Assessment | None,
    title: str,
    targeted: list[str],
    rng: random.Random,
    now: dt.datetime,
    official: Any,
    member: Any,
) -> RetrofitProject:
    """One project through the services, its stages moved at plausible moments."""
    base_at = baseline.submitted_at or now
    # The diagnosis follows the baseline rating by a few days (never later than yesterday).
    diagnosed_at = max(
        base_at, min(now - dt.timedelta(days=1), base_at + dt.timedelta(days=rng.uniform(1, 15)))
    ).replace(microsecond=0)
    if stage == Stage.ABANDONED:
        reached = rng.choice([Stage.DIAGNOSED, Stage.CONTRACTED, Stage.IN_PROGRESS])
        path = list(services.STAGE_ORDER[1 : services.STAGE_ORDER.index(reached) + 1])
        path.append(Stage.ABANDONED)
    else:
        path = list(services.STAGE_ORDER[1 : services.STAGE_ORDER.index(Stage(stage)) + 1])
    if acceptance is not None and acceptance.submitted_at:
        # Delivered a few days before the acceptance rating, accepted a few days after it.
        last = acceptance.submitted_at
        before = [s for s in path if s != Stage.ACCEPTED]
        moments = _times(rng, diagnosed_at, last - dt.timedelta(days=2), len(before))
        if Stage.ACCEPTED in path:
            accepted_at = min(now, last + dt.timedelta(days=rng.uniform(1, 6)))
            moments.append(accepted_at.replace(microsecond=0))
    else:
        end = max(diagnosed_at + dt.timedelta(hours=2), now - dt.timedelta(days=rng.uniform(1, 25)))
        moments = _times(rng, diagnosed_at, min(now, end), len(path))
    budget = Decimal(str(round(min(300.0, max(8.0, rng.lognormvariate(math.log(35), 0.6))), 2)))
    subsidy = (budget * Decimal(str(rng.choice([0.3, 0.4, 0.5])))).quantize(Decimal("0.01"))
    contracted_at = moments[0] if path and path[0] == Stage.CONTRACTED else None
    starts_on = (
        (contracted_at + dt.timedelta(days=rng.randint(3, 15))).date() if contracted_at else None
    )
    ends_on = starts_on + dt.timedelta(days=rng.randint(90, 240)) if starts_on else None
    project = services.project_create(
        programme,
        firm=baseline.firm,
        provider=provider,
        user=official,
        baseline=baseline,
        title=title,
        targeted_questions=targeted,
        starts_on=starts_on,
        ends_on=ends_on,
        budget_10k_cny=budget if contracted_at else None,
        subsidy_10k_cny=subsidy if contracted_at else None,
        now=diagnosed_at,
    )
    for to_stage, moment in zip(path, moments, strict=True):
        if to_stage == Stage.DELIVERED and acceptance is not None:
            services.project_link(project, user=official, acceptance=acceptance)
        by_provider = to_stage in (Stage.IN_PROGRESS, Stage.DELIVERED) and member is not None
        note = rng.choice(ABANDON_NOTES) if to_stage == Stage.ABANDONED else ""
        project = services.project_move(
            project,
            to_stage,
            user=member if by_provider else official,
            note=note,
            now=moment,
        )
    # The row's own creation time is the diagnosis, as if it had been entered then.
    RetrofitProject.objects.filter(pk=project.pk).update(created_at=diagnosed_at)
    return project


def _verifications(
    fw: Framework,
    projects: list[RetrofitProject],
    users: dict[str, Any],
    demo_firm_ids: set[int],
    rng: random.Random,
    now: dt.datetime,
    summary: DemoProgramme,
) -> None:
    """Completed verifications for part of the acceptance ratings, one in progress."""
    with_acceptance = [p for p in projects if p.acceptance_id is not None]
    accepted = [p for p in with_acceptance if p.stage == Stage.ACCEPTED]
    delivered = [p for p in with_acceptance if p.stage == Stage.DELIVERED]
    to_verify = [p for p in accepted if p.firm_id in demo_firm_ids]
    others = [p for p in accepted if p.firm_id not in demo_firm_ids]
    to_verify += others[: max(1, round(len(others) * 0.55))] if others else []
    scenes = [q.code for q in fw.questions if "scene" in q.tags]
    for number, project in enumerate(to_verify):
        acceptance = project.acceptance
        assert acceptance is not None
        assessor = users["demo_assessor"] if number % 2 == 0 else users["demo_assessor_p"]
        visited = (acceptance.submitted_at or now) + dt.timedelta(days=rng.uniform(1, 4))
        with set_actor(assessor):
            verification = services.verification_start(
                acceptance, user=assessor, visited_on=min(now, visited).date()
            )
        reported = {
            code: value
            for code, value in Answer.objects.filter(assessment=acceptance).values_list(
                "question_code", "value"
            )
            if value is not None
        }
        demo = project.firm_id in demo_firm_ids
        changes = 1 if demo else (0 if rng.random() < 0.4 else rng.randint(1, 3))
        answered = [c for c in scenes if c in reported]
        for code in rng.sample(answered, min(changes, len(answered))):
            values = _level_values(fw, code)
            position = values.index(reported[code]) if reported[code] in values else 0
            down = position > 0 and (demo or rng.random() < 0.8 or position == len(values) - 1)
            if not down and position == len(values) - 1:
                continue
            value = values[position - 1] if down else values[position + 1]
            reason = rng.choice(DOWN_REASONS if down else UP_REASONS)
            finding = services.Finding(code, value, reason)
            try:
                with set_actor(assessor):  # the audit trail names the assessor, as on the page
                    services.verification_record(verification, finding, user=assessor)
            except services.ProgrammeRuleError:
                continue  # the framework refuses this value here (a rule of another answer)
            summary.changed_answers += 1
            summary.evidence += _evidence(verification, code, assessor, rng, with_pdf=not down)
        with disable_auditlog():  # the confirmations repeat the self-report, 30 rows each
            services.verification_confirm_rest(verification, user=assessor)
        try:
            with set_actor(assessor):
                services.verification_complete(
                    verification, user=assessor, now=min(now, visited + dt.timedelta(hours=6))
                )
        except services.ProgrammeRuleError:
            # A change left the answers invalid together: undo the findings, confirm as reported.
            verification.answers.all().delete()
            verification.evidence.all().delete()
            with disable_auditlog():
                services.verification_confirm_rest(verification, user=assessor)
            services.verification_complete(verification, user=assessor, now=now)
        _visit_times(verification, min(now, visited))
        summary.verifications += 1
    if delivered:
        project = delivered[0]
        assert project.acceptance is not None
        with set_actor(users["demo_assessor"]):
            verification = services.verification_start(
                project.acceptance, user=users["demo_assessor"], visited_on=now.date()
            )
        answered = [
            c
            for c in scenes
            if Answer.objects.filter(assessment=project.acceptance, question_code=c).exists()
        ]
        if answered:
            code = answered[0]
            value = Answer.objects.get(assessment=project.acceptance, question_code=code).value
            with set_actor(users["demo_assessor"]):
                services.verification_record(
                    verification, services.Finding(code, value), user=users["demo_assessor"]
                )
        summary.evidence += _evidence(
            verification, answered[0] if answered else "PE1", users["demo_assessor"], rng
        )
        _visit_times(verification, now - dt.timedelta(hours=3))


def _visit_times(verification: Verification, visited: dt.datetime) -> None:
    """Place the rows' own timestamps on the visit (the seeding runs today, the visit did not)."""
    start = (visited - dt.timedelta(hours=2)).replace(microsecond=0)
    Verification.objects.filter(pk=verification.pk).update(started_at=start)
    verification.answers.update(updated_at=visited.replace(microsecond=0))
    verification.evidence.update(
        uploaded_at=(visited - dt.timedelta(hours=1)).replace(microsecond=0)
    )


def _evidence(
    verification: Verification, code: str, user: Any, rng: random.Random, *, with_pdf: bool = True
) -> int:
    """A site photo (PNG) and, often, a one-page record (PDF) for one question."""
    files = [("image/png", f"现场照片-{code}.png", demo_png(rng), "png")]
    if with_pdf or rng.random() < 0.5:
        lines = [
            "On-site verification record",
            f"Question: {code}",
            f"Assessment: {verification.assessment_id}",
            f"Visit date: {verification.visited_on or ''}",
            "Checked: system screens, production records, interview with the plant manager.",
        ]
        files.append(("application/pdf", f"核查记录-{code}.pdf", demo_pdf(lines), "pdf"))
    for content_type, original, data, ext in files:
        item = Evidence(
            verification=verification,
            question_code=code,
            original_name=original,
            content_type=content_type,
            size=len(data),
            uploaded_by=user,
        )
        item.file.save(f"{rng.getrandbits(64):016x}.{ext}", ContentFile(data), save=False)
        with set_actor(user):
            item.save()
    return len(files)
