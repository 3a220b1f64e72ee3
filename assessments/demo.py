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
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from assessments import scoring
from assessments.framework import Framework, Question, builtin_framework_paths, load_framework_file
from assessments.models import Answer, Assessment, FrameworkVersion, Invitation, Round
from assessments.services import invitation_token, result_fields_set, results_bulk_store
from assessments.versions import framework_for, framework_version_load
from clusters.models import Cluster, Firm, FirmMember

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


def _round(
    cluster: Cluster, version: FrameworkVersion, name: str, opens: dt.datetime, closes: dt.datetime
) -> Round:
    return Round.objects.create(
        cluster=cluster, framework_version=version, name=name, opens_at=opens, closes_at=closes
    )


@transaction.atomic
def seed_assessments(
    *, clusters: Sequence[Cluster], seed: int = 1, created: bool = True
) -> DemoAssessments:
    """Create the demo rounds, invitations, submitted assessments and drafts.

    Does nothing when the register was already there (`created` False) or rounds exist.
    """
    summary = DemoAssessments()
    if not created or Round.objects.filter(cluster__in=clusters).exists():
        return summary
    rng = random.Random(seed * 7919 + 17)
    version = _demo_version()
    fw = framework_for(version)
    now = timezone.now().replace(microsecond=0)
    last_opens = now - dt.timedelta(days=365 + 30)
    last_closes = last_opens + dt.timedelta(days=90)
    this_opens = now - dt.timedelta(days=30)
    this_closes = now + dt.timedelta(days=60)
    demo_firm_ids = set(
        FirmMember.objects.filter(user__username="demo_firm").values_list("firm_id", flat=True)
    )
    pending_answers: list[Answer] = []
    scored: list[tuple[Assessment, Framework, Any]] = []

    def flush() -> None:
        Answer.objects.bulk_create(pending_answers, batch_size=BATCH_SIZE)
        pending_answers.clear()
        results_bulk_store(scored, fields_saved=True)
        scored.clear()

    for cluster in clusters:
        cluster_mean = rng.uniform(0.3, 0.65)
        last = _round(
            cluster, version, f"{last_opens.year} 年度数字化水平评测", last_opens, last_closes
        )
        this = _round(
            cluster, version, f"{this_opens.year} 年度数字化水平评测", this_opens, this_closes
        )
        summary.rounds += 2
        firms = list(Firm.objects.filter(memberships__cluster=cluster).order_by("pk"))
        invitations = [
            Invitation(round=r, firm=f, token=invitation_token(), sent_at=r.opens_at)
            for r in (last, this)
            for f in firms
        ]
        Invitation.objects.bulk_create(invitations, batch_size=BATCH_SIZE)
        summary.invitations += len(invitations)
        maturity = {f.pk: _clamp(rng.gauss(cluster_mean, 0.17)) for f in firms}
        plans: list[tuple[Round, Firm, float, str]] = []
        for firm in firms:
            demo = firm.pk in demo_firm_ids
            answered_last = demo or rng.random() < 0.6
            if answered_last:
                plans.append((last, firm, maturity[firm.pk], "submitted"))
            progress = rng.uniform(0.0, 0.12) if answered_last else 0.0
            roll = rng.random()
            if demo:
                plans.append((this, firm, maturity[firm.pk] + progress, "draft"))
            elif roll < 0.5:
                plans.append((this, firm, maturity[firm.pk] + progress, "submitted"))
            elif roll < 0.56:
                plans.append((this, firm, maturity[firm.pk] + progress, "draft"))
        # Answers and results first, so that each assessment row goes in complete (one INSERT,
        # no UPDATE); its dimension, attainment and answer rows follow once it has an id.
        rows: list[Assessment] = []
        row_answers: list[dict[str, Any]] = []
        results: list[Any] = []
        for r, f, m, status in plans:
            assessment = Assessment(round=r, firm=f, framework_version=version)
            if status == "draft":
                answers = answers_for(fw, m, rng, share=rng.uniform(0.3, 0.8))
                result = None
                summary.drafts += 1
            else:
                answers = answers_for(fw, m, rng)
                result = scoring.score(fw, answers)
                assessment.status = Assessment.Status.SUBMITTED
                span = (r.closes_at - r.opens_at) if r.closes_at < now else (now - r.opens_at)
                assessment.submitted_at = r.opens_at + span * rng.uniform(0.1, 0.95)
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
