"""Demo rounds, invitations and assessments for the demo register (`manage.py seed_demo`).

Each demo cluster gets two rounds on the MIIT framework: last year's (closed; about 60% of the
firms submitted) and this year's (open; about half submitted, most of them a little further
on than the year before, plus a few drafts). Answers follow a latent maturity per firm, drawn
around a cluster mean, so that clusters differ and firms within a cluster spread out.

Deterministic for a seed, except the round dates, which are placed around today so that this
year's round is open. Rows go in with `bulk_create`; results are stored with
`results_bulk_store`, the same shape as a real submission.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from assessments import scoring
from assessments.framework import Framework, Question, builtin_framework_paths, load_framework_file
from assessments.models import (
    Answer,
    Assessment,
    DimensionScore,
    FrameworkVersion,
    Invitation,
    QuestionAttainment,
    Round,
)
from assessments.services import invitation_token, result_fields_set, results_bulk_store
from assessments.versions import framework_for, framework_version_load
from clusters.models import Cluster, ClusterMembership, FirmMember

DEMO_FRAMEWORK = "miit-sme"
BATCH_SIZE = 2000


@dataclass
class DemoAssessments:
    """What `seed_assessments` made."""

    rounds: int = 0
    invitations: int = 0
    submitted: int = 0
    drafts: int = 0


def _demo_version() -> FrameworkVersion:
    """The published MIIT version, loaded from the built-in file when it is not there yet."""
    version = (
        FrameworkVersion.objects.published()
        .filter(framework__slug=DEMO_FRAMEWORK)
        .order_by("-version")
        .first()
    )
    if version is not None:
        return version
    for path in builtin_framework_paths():
        parsed = load_framework_file(path)
        if parsed.slug == DEMO_FRAMEWORK:
            return framework_version_load(parsed, publish=True)[0]
    raise LookupError(f"the built-in framework {DEMO_FRAMEWORK} is missing")


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def _answer(q: Question, m: float, rng: random.Random) -> Any:
    """A plausible answer for a firm of maturity m (0–1), or None to leave it unanswered."""
    noisy = _clamp(m + rng.gauss(0, 0.18))
    if q.type == "single":
        ranked = sorted(q.options, key=lambda o: o.points)
        return ranked[min(len(ranked) - 1, int(noisy * len(ranked)))].code
    if q.type == "multi":
        plain = [o for o in q.options if not o.exclusive]
        chosen = [o.code for o in plain if rng.random() < _clamp(m * 1.1 + rng.gauss(0, 0.15))]
        if not chosen:
            exclusive = [o.code for o in q.options if o.exclusive]
            return exclusive[:1]
        return chosen
    if q.type == "yesno":
        return rng.random() < _clamp(m * 1.1)
    if q.type == "level":
        values = [c.value for c in q.levels]
        return values[min(len(values) - 1, int(noisy * len(values)))]
    if q.type == "number":
        low = q.min if q.min is not None else Decimal(0)
        high = q.max
        if high is None:
            uptos = [b.upto for b in q.bands if b.upto is not None]
            high = (uptos[-1] * 2) if uptos else low + 100
        value = low + (high - low) * Decimal(str(round(noisy, 3)))
        if q.integer:
            return int(value.to_integral_value(ROUND_HALF_UP))
        return float(value.quantize(Decimal("0.1"), ROUND_HALF_UP))
    if q.type == "text":
        return "希望进一步打通订单、生产和仓储数据" if q.required else None
    return None


def answers_for(
    fw: Framework, maturity: float, rng: random.Random, *, share: float = 1.0
) -> dict[str, Any]:
    """Plausible answers for a firm of this maturity (0–1) on any framework.

    With `share` 1 (a submission) every applicable question is answered, required ones always;
    below 1 (a draft) about that share of them. Only valid answers to applicable questions are
    kept, so a complete set can be submitted as it is. The demo seeding and the tests use this.
    """
    m = _clamp(maturity)
    answers = {}
    for q in fw.questions:
        if share < 1.0 and rng.random() > share:
            continue
        value = _answer(q, m, rng)
        if value is not None and scoring.check_answer(fw, q.code, value) is None:
            answers[q.code] = value
    applicable = scoring.applicable(fw, answers)
    answers = {code: value for code, value in answers.items() if code in applicable}
    if share < 1.0:
        return answers
    for code in scoring.missing_required(fw, answers):  # what the noise left out
        value = _answer(fw.question(code), m, rng)
        if value is None or scoring.check_answer(fw, code, value):
            value = _answer(fw.question(code), 1.0, random.Random(0))
        answers[code] = value
    return answers


@dataclass
class Plan:
    """One demo assessment to make: its round, firm, the firm's maturity and its status, with
    the draws that shape it (a draft's share of answers, when a submission came in)."""

    round: Round
    firm_id: int
    maturity: float
    status: str
    share: float = 1.0
    submitted_at: dt.datetime | None = None


def _cluster_plans(
    rng: random.Random,
    firm_ids: Sequence[int],
    demo_firm_ids: set[int],
    last: Round,
    this: Round,
    now: dt.datetime,
) -> list[Plan]:
    """Who answers which round in one cluster, and how: every draw from `rng`, in one order,
    so that both seeding paths make the same assessments for a seed."""
    cluster_mean = rng.uniform(0.3, 0.65)
    maturity = {f: _clamp(rng.gauss(cluster_mean, 0.17)) for f in firm_ids}
    plans: list[Plan] = []
    for firm in firm_ids:
        demo = firm in demo_firm_ids
        answered_last = demo or rng.random() < 0.6
        if answered_last:
            plans.append(Plan(last, firm, maturity[firm], "submitted"))
        progress = rng.uniform(0.0, 0.12) if answered_last else 0.0
        roll = rng.random()
        if demo:
            plans.append(Plan(this, firm, maturity[firm] + progress, "draft"))
        elif roll < 0.5:
            plans.append(Plan(this, firm, maturity[firm] + progress, "submitted"))
        elif roll < 0.56:
            plans.append(Plan(this, firm, maturity[firm] + progress, "draft"))
    for plan in plans:
        r = plan.round
        if plan.status == "draft":
            plan.share = rng.uniform(0.3, 0.8)
        else:
            span = (r.closes_at - r.opens_at) if r.closes_at < now else (now - r.opens_at)
            plan.submitted_at = r.opens_at + span * rng.uniform(0.1, 0.95)
    return plans


def _round_pair(
    cluster: Cluster, version: FrameworkVersion, now: dt.datetime
) -> tuple[Round, Round]:
    """Last year's round (closed) and this year's (open), unsaved."""
    last_opens = now - dt.timedelta(days=365 + 30)
    last_closes = last_opens + dt.timedelta(days=90)
    this_opens = now - dt.timedelta(days=30)
    this_closes = now + dt.timedelta(days=60)
    return (
        Round(
            cluster=cluster,
            framework_version=version,
            name=f"{last_opens.year} 年度数字化水平评测",
            opens_at=last_opens,
            closes_at=last_closes,
        ),
        Round(
            cluster=cluster,
            framework_version=version,
            name=f"{this_opens.year} 年度数字化水平评测",
            opens_at=this_opens,
            closes_at=this_closes,
        ),
    )


def seed_assessments(
    *, clusters: Sequence[Cluster], seed: int = 1, created: bool = True, fast: bool | None = None
) -> DemoAssessments:
    """Create the demo rounds, invitations, submitted assessments and drafts.

    Does nothing when the register was already there (`created` False) or rounds exist. On
    PostgreSQL with many firms (or with `fast`) the rows go in through COPY, from pre-scored
    answer profiles (`_seed_fast`); the same firms answer the same rounds as on the ORM path.
    All in one transaction, except on the COPY path called outside one (`seed_demo`): there
    the rounds are committed first and the big tables then load side by side (bulk_load.load).
    """
    summary = DemoAssessments()
    if not created or Round.objects.filter(cluster__in=clusters).exists():
        return summary
    from assessments import bulk_load

    with transaction.atomic():
        rng = random.Random(seed * 7919 + 17)
        version = _demo_version()
        fw = framework_for(version)
        now = timezone.now().replace(microsecond=0)
        demo_firm_ids = set(
            FirmMember.objects.filter(user__username="demo_firm").values_list("firm_id", flat=True)
        )
        members: dict[int, list[int]] = {c.pk: [] for c in clusters}
        for cluster_id, firm_id in (
            ClusterMembership.objects.filter(cluster__in=clusters)
            .order_by("cluster_id", "firm_id")
            .values_list("cluster_id", "firm_id")
            .iterator(chunk_size=20_000)
        ):
            members[cluster_id].append(firm_id)
        pairs = [_round_pair(c, version, now) for c in clusters]
        Round.objects.bulk_create([r for pair in pairs for r in pair])
        summary.rounds = 2 * len(pairs)
        args = (rng, seed, clusters, members, pairs, demo_firm_ids, version, fw, now, summary)
        if not bulk_load.use_fast_path(sum(len(m) for m in members.values()), fast):
            return _seed_orm(*args)
    return _seed_fast(*args)


def _seed_orm(
    rng: random.Random,
    seed: int,
    clusters: Sequence[Cluster],
    members: dict[int, list[int]],
    pairs: list[tuple[Round, Round]],
    demo_firm_ids: set[int],
    version: FrameworkVersion,
    fw: Framework,
    now: dt.datetime,
    summary: DemoAssessments,
) -> DemoAssessments:
    """The ORM path: bulk_create, and every assessment scored."""
    answer_rng = random.Random(seed * 104_729 + 3)
    pending_answers: list[Answer] = []
    scored: list[tuple[Assessment, Framework, Any]] = []

    def flush() -> None:
        Answer.objects.bulk_create(pending_answers, batch_size=BATCH_SIZE)
        pending_answers.clear()
        results_bulk_store(scored, fields_saved=True)
        scored.clear()

    for cluster, (last, this) in zip(clusters, pairs, strict=True):
        firm_ids = members[cluster.pk]
        invitations = [
            Invitation(round=r, firm_id=f, token=invitation_token(), sent_at=r.opens_at)
            for r in (last, this)
            for f in firm_ids
        ]
        Invitation.objects.bulk_create(invitations, batch_size=BATCH_SIZE)
        summary.invitations += len(invitations)
        plans = _cluster_plans(rng, firm_ids, demo_firm_ids, last, this, now)
        # Answers and results first, so that each assessment row goes in complete (one INSERT,
        # no UPDATE); its dimension, attainment and answer rows follow once it has an id.
        rows: list[Assessment] = []
        row_answers: list[dict[str, Any]] = []
        results: list[Any] = []
        for plan in plans:
            assessment = Assessment(
                round=plan.round, firm_id=plan.firm_id, framework_version=version
            )
            if plan.status == "draft":
                answers = answers_for(fw, plan.maturity, answer_rng, share=plan.share)
                result = None
                summary.drafts += 1
            else:
                answers = answers_for(fw, plan.maturity, answer_rng)
                result = scoring.score(fw, answers)
                assessment.status = Assessment.Status.SUBMITTED
                assessment.submitted_at = plan.submitted_at
                result_fields_set(assessment, fw, result)
                summary.submitted += 1
            rows.append(assessment)
            row_answers.append(answers)
            results.append(result)
        rows = Assessment.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        for assessment, answers, result in zip(rows, row_answers, results, strict=True):
            if result is not None:
                scored.append((assessment, fw, result))
            pending_answers.extend(
                Answer(assessment=assessment, question_code=code, value=value)
                for code, value in answers.items()
            )
        flush()
    return summary


# --- The COPY path (PostgreSQL, provincial scale) ---------------------------------------------

# Submitted answer sets: MATURITY_STEPS maturities × PROFILE_VARIANTS draws, each scored once
# and reused by every firm whose maturity falls in its step (bench/report.py does the same).
MATURITY_STEPS = 60
PROFILE_VARIANTS = 6
# Drafts: a few shares of answers per maturity step.
DRAFT_SHARES = (0.35, 0.5, 0.65, 0.8)
DRAFT_STEPS = 20


@dataclass
class Profile:
    """A pre-scored answer set as COPY text: the answer, dimension and attainment lines of one
    assessment, split where the assessment's id goes (`id.join(parts)` makes the lines), and
    the assessment row's result columns."""

    answers: list[str]
    dimensions: list[str]
    attainments: list[str]
    fields: str  # result, total, level, level_rank, basic, advanced (COPY text, tab-joined)
    answer_count: int


def _split_lines(lines: list[str]) -> list[str]:
    """Lines that start with the assessment id, as the parts between the ids."""
    return ["", *lines]


def _profiles(
    fw: Framework, rng: random.Random, tables: dict[str, Any], *, submitted: bool
) -> list[list[Profile]]:
    from assessments.bulk_load import json_text, text
    from assessments.services import _result_rows

    steps = MATURITY_STEPS if submitted else DRAFT_STEPS
    variants = PROFILE_VARIANTS if submitted else len(DRAFT_SHARES)
    out: list[list[Profile]] = []
    for step in range(steps):
        maturity = (step + 0.5) / steps
        row: list[Profile] = []
        for variant in range(variants):
            share = 1.0 if submitted else DRAFT_SHARES[variant]
            answers = answers_for(fw, maturity, rng, share=share)
            answer_lines = [
                tables["answer"].line("", code, json_text(value)) for code, value in answers.items()
            ]
            dims: list[str] = []
            atts: list[str] = []
            fields = ""
            if submitted:
                result = scoring.score(fw, answers)
                probe = Assessment(framework_version_id=0)
                result_fields_set(probe, fw, result)
                fields = "\t".join(
                    [
                        json_text(probe.result),
                        text(probe.total),
                        text(probe.level),
                        text(probe.level_rank),
                        text(probe.basic),
                        text(probe.advanced),
                    ]
                )
                d_rows, a_rows = _result_rows(probe, fw, result)
                dims = [
                    tables["dimension"].line("", d.dimension_code, text(d.score)) for d in d_rows
                ]
                atts = [
                    tables["attainment"].line(
                        "",
                        a.question_code,
                        a.dimension_code,
                        text(a.attainment),
                        text(a.earned),
                        text(a.points),
                    )
                    for a in a_rows
                ]
            row.append(
                Profile(
                    _split_lines(answer_lines),
                    _split_lines(dims),
                    _split_lines(atts),
                    fields,
                    len(answer_lines),
                )
            )
        out.append(row)
    return out


def _seed_fast(
    rng: random.Random,
    seed: int,
    clusters: Sequence[Cluster],
    members: dict[int, list[int]],
    pairs: list[tuple[Round, Round]],
    demo_firm_ids: set[int],
    version: FrameworkVersion,
    fw: Framework,
    now: dt.datetime,
    summary: DemoAssessments,
) -> DemoAssessments:
    """Invitations, assessments, answers and result rows through COPY, with the indexes and
    constraints of those tables dropped for the load and re-created after it."""
    from assessments import bulk_load
    from assessments.bulk_load import NULL

    stamp = bulk_load.now()
    tables = {
        "invitation": bulk_load.Table(
            Invitation, ["round_id", "firm_id", "token", "sent_at"], now=stamp
        ),
        "assessment": bulk_load.Table(
            Assessment,
            [
                "id",
                "round_id",
                "firm_id",
                "framework_version_id",
                "status",
                "submitted_at",
                "result",
                "total",
                "level",
                "level_rank",
                "basic",
                "advanced",
            ],
            now=stamp,
        ),
        "answer": bulk_load.Table(Answer, ["assessment_id", "question_code", "value"], now=stamp),
        "dimension": bulk_load.Table(
            DimensionScore, ["assessment_id", "dimension_code", "score"], now=stamp
        ),
        "attainment": bulk_load.Table(
            QuestionAttainment,
            [
                "assessment_id",
                "question_code",
                "dimension_code",
                "attainment",
                "earned",
                "points",
            ],
            now=stamp,
        ),
    }
    profile_rng = random.Random(seed * 31 + 5)
    pick = random.Random(seed * 65_537 + 11)
    submitted_profiles = _profiles(fw, profile_rng, tables, submitted=True)
    draft_profiles = _profiles(fw, profile_rng, tables, submitted=False)
    bulk_load.note(
        f"{MATURITY_STEPS * PROFILE_VARIANTS} submitted and "
        f"{DRAFT_STEPS * len(DRAFT_SHARES)} draft answer profiles scored"
    )
    # Every plan first (they are small), so that the assessments' ids can be reserved at once.
    plans: list[Plan] = []
    for cluster, (last, this) in zip(clusters, pairs, strict=True):
        plans.extend(_cluster_plans(rng, members[cluster.pk], demo_firm_ids, last, this, now))
    first_id = bulk_load.reserve_ids(Assessment, len(plans))
    chosen: list[Profile] = []
    for plan in plans:
        m = _clamp(plan.maturity)
        if plan.status == "draft":
            step = min(DRAFT_STEPS - 1, int(m * DRAFT_STEPS))
            variant = min(range(len(DRAFT_SHARES)), key=lambda i: abs(DRAFT_SHARES[i] - plan.share))
            chosen.append(draft_profiles[step][variant])
        else:
            step = min(MATURITY_STEPS - 1, int(m * MATURITY_STEPS))
            chosen.append(submitted_profiles[step][pick.randrange(PROFILE_VARIANTS)])
    bulk_load.note(f"{len(plans):,} assessments planned, ids from {first_id}")
    version_id = str(version.pk)
    no_result = "\t".join([NULL, NULL, "", NULL, NULL, NULL])

    def invitation_lines() -> Iterator[str]:
        line = tables["invitation"].line
        for cluster, pair in zip(clusters, pairs, strict=True):
            for r in pair:
                round_id, sent = str(r.pk), r.opens_at.isoformat()
                for firm in members[cluster.pk]:
                    yield line(round_id, str(firm), invitation_token(), sent)

    def assessment_lines() -> Iterator[str]:
        line = tables["assessment"].line
        for offset, (plan, profile) in enumerate(zip(plans, chosen, strict=True)):
            submitted = plan.status == "submitted"
            yield line(
                str(first_id + offset),
                str(plan.round.pk),
                str(plan.firm_id),
                version_id,
                plan.status,
                plan.submitted_at.isoformat() if plan.submitted_at else NULL,
                profile.fields if submitted else no_result,
            )

    def child_lines(part: str) -> Iterator[str]:
        for offset, profile in enumerate(chosen):
            parts = getattr(profile, part)
            if len(parts) > 1:
                yield str(first_id + offset).join(parts)

    counts = bulk_load.load(
        [
            (tables["invitation"], invitation_lines(), "invitations"),
            (tables["assessment"], assessment_lines(), "assessments"),
            (tables["answer"], child_lines("answers"), "answers"),
            (tables["dimension"], child_lines("dimensions"), "dimension scores"),
            (tables["attainment"], child_lines("attainments"), "question attainments"),
        ]
    )
    summary.invitations = counts["invitations"]
    summary.submitted = sum(1 for p in plans if p.status == "submitted")
    summary.drafts = len(plans) - summary.submitted
    return summary
