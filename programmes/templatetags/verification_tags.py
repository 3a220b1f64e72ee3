"""Template helpers of the on-site verification, for pages outside programmes/.

`assessments/` must not import `programmes` (dependencies: programmes → assessments), so the
firm's result page shows the verified result through `{% verified_result assessment %}`, and
the home page the assessors' panel through `{% assessor_panel %}`.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from assessments.framework import Framework
from assessments.questionnaire import answer_display, question_number
from assessments.services import framework_text as _t
from assessments.versions import framework_for
from programmes import selectors
from programmes.models import Verification

register = template.Library()


def _level_title(fw: Framework, code: str | None) -> str:
    for level in fw.levels:
        if level.code == code:
            return _t(level.title)
    return _("Below the first level")


@register.inclusion_tag("programmes/verification/_result_verified.html")
def verified_result(assessment: Any) -> dict[str, Any]:
    """The completed on-site verification of an assessment the page already shows (nothing
    while there is none, or while it is in progress): the verified level and total beside the
    self-reported ones, and each changed answer with its reason and evidence."""
    pk = getattr(assessment, "pk", None)
    if pk is None:
        return {"verification": None}
    verification = (
        Verification.objects.filter(
            assessment_id=pk,
            status=Verification.Status.COMPLETED,
        )
        .select_related("assessor")
        .first()
    )
    if verification is None:
        return {"verification": None}
    fw = framework_for(assessment.framework_version)
    evidence: dict[str, list[Any]] = {}
    for item in verification.evidence.all():
        evidence.setdefault(item.question_code, []).append(item)
    changes: list[dict[str, Any]] = []
    for answer in verification.answers.filter(changed=True):
        try:
            question = fw.question(answer.question_code)
        except KeyError:
            continue
        changes.append(
            {
                "number": question_number(fw, question.code),
                "text": _t(question.text),
                "reported": answer_display(question, answer.reported_value),
                "verified": answer_display(question, answer.value),
                "reason": answer.reason,
                "evidence": evidence.get(question.code, []),
            }
        )
    changes.sort(key=lambda c: int(c["number"]))
    return {
        "verification": verification,
        "self_level": _level_title(fw, assessment.level),
        "self_total": assessment.total,
        "verified_level": _level_title(fw, verification.level or None),
        "verified_total": verification.total,
        "level_differs": (verification.level or "") != (assessment.level or ""),
        "changes": changes,
    }


@register.inclusion_tag("programmes/verification/_home_assessor_panel.html", takes_context=True)
def assessor_panel(context: dict[str, Any]) -> dict[str, Any]:
    """The assessors' panel of the home page: how many assessments await verification."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not selectors.is_assessor(user):
        return {"shown": False}
    return {"shown": True, "waiting": selectors.verification_worklist(user).count()}
