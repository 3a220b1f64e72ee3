"""The firm's own result as a PDF: one or two pages, rendered synchronously on request."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from assessments import charts, selectors
from assessments.results import result_context
from reports.pdf import cjk_font_family, render_pdf


@login_required
def firm_result_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a submitted assessment's result as a PDF, in the user's language (the one
    the request runs in).

    The firm's own users and officials who oversee the firm may download it; anyone else,
    and any draft, gets a 404.
    """
    assessment = selectors.assessment_for_user(request.user, pk)
    if not assessment.is_submitted:
        raise Http404
    context = result_context(request.user, assessment)
    context["chart_svg"] = charts.scores_chart(
        context["total"],
        context["dimensions"],
        context["benchmark"].total.median if context["benchmark"].shown else None,
        font=cjk_font_family(),
        width=480,
    )
    pdf = render_pdf("reports/pdf/firm_result.html", context)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"result-{assessment.firm.uscc}-round-{assessment.round_id}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
