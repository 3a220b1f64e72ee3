"""A submitted assessment's result turned into what a person reads: the page and the firm's PDF.

Reads only the stored snapshot and the framework version it was scored with; never re-scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assessments import charts, scoring, wording
from assessments import selectors as assessment_selectors
from assessments.framework import Framework
from assessments.models import Assessment, active_language
from assessments.services import assessment_answers
from assessments.services import framework_text as _t
from assessments.versions import framework_for

# Texts of templates/reports/pdf/firm_result.html that only the firm's PDF uses: listed here so
# that they are in this part's catalog (the reports catalog belongs to the reports part).
_PDF_TEXTS = (
    gettext_noop("Digital maturity result"),
    gettext_noop("Level"),
    gettext_noop("Page"),
    gettext_noop("Basic"),
    gettext_noop("Advanced"),
    gettext_noop("Not yet basic"),
    gettext_noop("Not yet advanced"),
    gettext_noop("Source"),
    gettext_noop(
        "Hidden: peer figures are shown only when at least %(minimum)s firms of the cluster "
        "have submitted."
    ),
)


@dataclass
class Suggestion:
    """A question that would help reach the next level, and why; `number` as the questionnaire
    shows it."""

    code: str
    text: str
    dimension: str
    reason: str
    number: int = 0


@dataclass
class Gap:
    """One unmet condition of the next level, as a sentence, with the questions that help."""

    sentence: str
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass
class DimensionRow:
    code: str
    title: str
    weight: Decimal
    score: Decimal | None
    peer: Any = None
    previous: Decimal | None = None
    rated_by_scenarios: bool = False

    @property
    def change(self) -> Decimal | None:
        if self.score is None or self.previous is None:
            return None
        return self.score - self.previous


@dataclass
class SceneRow:
    code: str
    text: str
    dimension: str
    value: int | None
    label: str
    top: int
    steps: list[tuple[int, str, bool]]


@dataclass
class CountCell:
    """One count gate of a level: how many of the tagged questions the firm has at the step."""

    tag: str
    have: int
    need: int

    @property
    def met(self) -> bool:
        return self.have >= self.need


@dataclass
class CountRow:
    """A level with its count gates (MIIT: scenarios and mandatory scenarios at the step),
    one cell per column tag (None when the level has no gate on that tag)."""

    level: str
    step: str
    cells: list[CountCell | None]
    reached: bool


def _count_rows(
    fw: Framework, snapshot: dict[str, Any], applicable: frozenset[str], reached_rank: int
) -> tuple[list[str], list[CountRow]]:
    """Each level's tag-count gates against the firm's counts: (column tags, rows).

    The counts are read from the stored attainment, as the scorer counted them.
    """
    attainment = {k: Decimal(str(v)) for k, v in (snapshot.get("attainment") or {}).items()}
    tags: list[str] = []
    gates: list[tuple[int, Any, dict[str, CountCell], set[Decimal]]] = []
    for rank, level in enumerate(fw.levels):
        cells: dict[str, CountCell] = {}
        steps: set[Decimal] = set()
        for condition in level.when:
            spec = condition.get("count")
            if not isinstance(spec, dict) or "tag" not in spec:
                continue
            bar = Decimal(str(spec.get("min_attainment", 0)))
            steps.add(bar)
            have = sum(
                1
                for q in fw.questions
                if spec["tag"] in q.tags
                and q.code in applicable
                and attainment.get(q.code, Decimal(-1)) >= bar
            )
            cells[spec["tag"]] = CountCell(spec["tag"], have, int(spec["at_least"]))
            if spec["tag"] not in tags:
                tags.append(spec["tag"])
        if cells:
            gates.append((rank, level, cells, steps))
    rows = [
        CountRow(
            level=_t(level.title),
            step=wording.number(min(steps)) if len(steps) == 1 else "",
            cells=[cells.get(tag) for tag in tags],
            reached=rank <= reached_rank,
        )
        for rank, level, cells, steps in gates
    ]
    return tags, rows


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class _Gaps:
    """Turns next_level.unmet into sentences and ranks the questions that would help most."""

    def __init__(self, fw: Framework, snapshot: dict[str, Any], answers: dict[str, Any]) -> None:
        self.fw = fw
        self.answers = answers
        self.applicable = scoring.applicable(fw, answers)
        self.earned = {k: Decimal(str(v)) for k, v in (snapshot.get("earned") or {}).items()}
        self.attainment = {
            k: Decimal(str(v)) for k, v in (snapshot.get("attainment") or {}).items()
        }
        self.dims = {d.code: d for d in fw.dimensions}

    def _dim_points(self, dim_code: str) -> Decimal:
        return sum(
            (
                q.points or Decimal(0)
                for q in self.dims[dim_code].questions
                if q.points is not None and q.code in self.applicable
            ),
            Decimal(0),
        )

    def _scored_suggestions(self, dim_code: str | None, limit: int = 3) -> list[Suggestion]:
        """Scored questions with the most points still open, weighted by their effect."""
        total_weight = sum(
            (d.weight for d in self.fw.dimensions if d.weight > 0 and self._dim_points(d.code)),
            Decimal(0),
        )
        ranked: list[tuple[Decimal, Any, Decimal]] = []
        for dim in self.fw.dimensions:
            if dim_code is not None and dim.code != dim_code:
                continue
            if dim_code is None and dim.weight <= 0:
                continue
            pool = self._dim_points(dim.code)
            if not pool:
                continue
            for q in dim.questions:
                if q.points is None or q.code not in self.applicable or not q.points:
                    continue
                open_points = q.points - self.earned.get(q.code, Decimal(0))
                if open_points <= 0:
                    continue
                gain = open_points * 100 / pool
                if dim_code is None:
                    gain = gain * dim.weight / total_weight if total_weight else Decimal(0)
                ranked.append((gain, q, open_points))
        ranked.sort(key=lambda item: (-item[0], item[1].code))
        result = []
        for gain, q, open_points in ranked[:limit]:
            if q.type == "yesno" and q.code in self.answers:
                reason = _("answered no: answering yes adds up to +%(gain)s") % {
                    "gain": wording.number(gain)
                }
            elif q.code in self.answers:
                reason = _("%(open)s of %(points)s points still open: up to +%(gain)s") % {
                    "open": wording.number(open_points),
                    "points": wording.number(q.points),
                    "gain": wording.number(gain),
                }
            else:
                reason = _("unanswered, %(points)s points: up to +%(gain)s") % {
                    "points": wording.number(q.points),
                    "gain": wording.number(gain),
                }
            result.append(self._suggestion(q, reason))
        return result

    def _suggestion(self, q: Any, reason: str) -> Suggestion:
        return Suggestion(
            q.code,
            _t(q.text),
            _t(self.dims[q.dimension].title),
            reason,
            wording.question_numbers(self.fw)[q.code],
        )

    def _count_suggestions(self, spec: dict[str, Any], limit: int = 4) -> list[Suggestion]:
        threshold = Decimal(str(spec.get("min_attainment", 0)))
        pool = []
        for q in self.fw.questions:
            if q.code not in self.applicable or q.type == "text":
                continue
            if "tag" in spec and spec["tag"] not in q.tags:
                continue
            if "dimension" in spec and q.dimension != spec["dimension"]:
                continue
            current = self.attainment.get(q.code)
            if current is not None and current >= threshold:
                continue
            pool.append((current if current is not None else Decimal(-1), q))
        pool.sort(key=lambda item: (-item[0], item[1].code))
        result = []
        for current, q in pool[:limit]:
            if current < 0:
                reason = _("unanswered")
            elif q.type == "yesno":
                reason = _("answered no: answer yes to meet it")
            elif q.type == "level":
                reason = _("now at level %(now)s, needs %(need)s") % {
                    "now": wording.number(current),
                    "need": wording.number(threshold),
                }
            else:
                reason = _("now at %(now)s%% of its points, needs %(need)s%%") % {
                    "now": wording.number(current * 100),
                    "need": wording.number(threshold * 100),
                }
            result.append(self._suggestion(q, reason))
        return result

    def _tagged(self, tag: str) -> frozenset[str]:
        return frozenset(q.code for q in self.fw.questions if tag in q.tags)

    def gaps(self, unmet: list[dict[str, Any]]) -> list[Gap]:
        """One sentence per unmet condition; a count over a subset of another count's questions
        (constrained scenes among scenes) is told inside that count's sentence."""
        counts = [
            (i, u["condition"]["count"])
            for i, u in enumerate(unmet)
            if "count" in u["condition"] and "tag" in u["condition"]["count"]
        ]
        inside: dict[int, int] = {}
        for i, spec in counts:
            for j, other in counts:
                same_bar = spec.get("min_attainment") == other.get("min_attainment")
                if i != j and same_bar and self._tagged(spec["tag"]) < self._tagged(other["tag"]):
                    inside[i] = j
        result = []
        for k, item in enumerate(unmet):
            if k in inside:
                continue
            gap = self.sentence(item["condition"], item.get("actual"))
            for i, j in inside.items():
                if j != k:
                    continue
                spec = unmet[i]["condition"]["count"]
                gap.sentence += " " + wording.subset_sentence(spec, unmet[i].get("actual"))
                first = self._count_suggestions(spec)
                codes = {s.code for s in first}
                gap.suggestions = (first + [s for s in gap.suggestions if s.code not in codes])[:4]
            result.append(gap)
        return result

    def sentence(self, condition: dict[str, Any], actual: Any) -> Gap:
        """The unmet condition as what to do, with the questions that would help most."""
        said = wording.gap_sentence(condition, self.fw, active_language(), actual)
        if "score" in condition:
            return Gap(said, self._scored_suggestions(None))
        if "dimension" in condition and "count" not in condition:
            return Gap(said, self._scored_suggestions(condition["dimension"]))
        if "count" in condition:
            return Gap(said, self._count_suggestions(condition["count"]))
        return Gap(said)


def level_title(assessment: Assessment) -> str:
    """The level a submitted assessment reached, in words ("Below the first level" if none)."""
    fw = framework_for(assessment.framework_version)
    levels = {lv.code: lv for lv in fw.levels}
    if assessment.level in levels:
        return _t(levels[assessment.level].title)
    return _("Below the first level")


def result_context(user: Any, assessment: Assessment) -> dict[str, Any]:
    """Everything the result page and the firm's PDF show, in the active language."""
    fw = framework_for(assessment.framework_version)
    snapshot = assessment.result or {}
    answers = assessment_answers(assessment)
    levels = {lv.code: lv for lv in fw.levels}
    level = levels.get(assessment.level)
    benchmark = assessment_selectors.peer_benchmark(user, assessment)
    previous = assessment_selectors.previous_assessment(user, assessment)
    previous_dims: dict[str, Any] = {}
    previous_level = None
    if previous is not None:
        previous_dims = (previous.result or {}).get("dimensions", {})
        prev_fw = framework_for(previous.framework_version)
        prev_levels = {lv.code: lv for lv in prev_fw.levels}
        if previous.level in prev_levels:
            previous_level = _t(prev_levels[previous.level].title)
    dimensions = [
        DimensionRow(
            code=d.code,
            title=_t(d.title),
            weight=d.weight,
            score=_dec(snapshot.get("dimensions", {}).get(d.code)),
            peer=benchmark.dimensions.get(d.code),
            previous=_dec(previous_dims.get(d.code)),
            rated_by_scenarios=all(q.type == "level" for q in d.questions),
        )
        for d in fw.dimensions
    ]
    scenes = []
    applicable = scoring.applicable(fw, answers)
    for q in fw.questions:
        if q.type != "level" or q.code not in applicable:
            continue
        value = answers.get(q.code)
        steps = [(c.value, _t(c.text), c.value == value) for c in q.levels]
        label = next((t for v, t, _chosen in steps if v == value), "")
        scenes.append(
            SceneRow(
                code=q.code,
                text=_t(q.text),
                dimension=_t(next(d.title for d in fw.dimensions if d.code == q.dimension)),
                value=value,
                label=label,
                top=q.levels[-1].value if q.levels else 0,
                steps=steps,
            )
        )
    gaps: list[Gap] = []
    next_level = snapshot.get("next_level")
    next_title = ""
    if next_level:
        next_title = _t(levels[next_level["code"]].title) if next_level["code"] in levels else ""
        maker = _Gaps(fw, snapshot, answers)
        gaps = maker.gaps(list(next_level["unmet"]))
    count_tags, count_rows = _count_rows(
        fw, snapshot, applicable, fw.level_rank(level.code) if level else -1
    )
    total = _dec(snapshot.get("total"))
    previous_total = previous.total if previous is not None else None
    return {
        "assessment": assessment,
        "framework": fw,
        "framework_title": _t(fw.title),
        "framework_source": _t(fw.source) if fw.source else "",
        "firm": assessment.firm,
        "round": assessment.round,
        "level": level,
        "level_title": _t(level.title) if level else "",
        "level_description": _t(level.description) if level and level.description else "",
        "basic": assessment.basic,
        "advanced": assessment.advanced,
        "basic_title": _t(levels[fw.bands.basic].title) if fw.bands.basic in levels else "",
        "advanced_title": (
            _t(levels[fw.bands.advanced].title) if fw.bands.advanced in levels else ""
        ),
        "total": total,
        "dimensions": dimensions,
        "scenes": scenes,
        "count_heads": [wording.tag_head(tag) for tag in count_tags],
        "count_rows": count_rows,
        "next_level": next_level,
        "next_title": next_title,
        "gaps": gaps,
        "benchmark": benchmark,
        "peer_minimum": assessment_selectors.PEER_MINIMUM,
        "previous": previous,
        "previous_level": previous_level,
        "previous_total": previous_total,
        "total_change": (total - previous_total)
        if total is not None and previous_total is not None
        else None,
        "chart_svg": charts.scores_chart(
            total, dimensions, benchmark.total.median if benchmark.total is not None else None
        ),
    }
