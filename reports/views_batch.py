"""Report batch pages (issue 14): request every cluster report of a region's round, watch the
batch's progress, download its zip. A batch outside the user's regions answers exactly like
one that does not exist (404)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessments.models import Framework
from clusters.models import Region
from clusters.selectors import regions_visible_to
from reports import batch as batches
from reports import context, selectors, services
from reports.models import ReportBatch


class BatchRequestForm(forms.Form):
    """What a batch covers: a region the user oversees, a framework and optionally a year
    (the rounds the regional report compares), and the edition."""

    region = forms.ModelChoiceField(
        label=gettext_lazy("Region"),
        queryset=Region.objects.none(),
        error_messages={"invalid_choice": selectors.NO_SUCH_REGION},
    )
    framework = forms.ModelChoiceField(
        label=gettext_lazy("Framework"),
        queryset=Framework.objects.filter(versions__status="published").distinct(),
        required=False,
        to_field_name="slug",
        empty_label=gettext_lazy("The framework with the most submissions in the region"),
        error_messages={"invalid_choice": gettext_lazy("No such framework.")},
    )
    year = forms.IntegerField(
        label=gettext_lazy("Rounds opened in (year)"),
        required=False,
        min_value=services.YEAR_MIN,
        max_value=services.YEAR_MAX,
        help_text=gettext_lazy("Leave empty for each cluster's latest round on the framework."),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES)
    shareable = forms.BooleanField(
        label=gettext_lazy("Shareable edition (no firm names, cells under 5 firms suppressed)"),
        required=False,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = regions_visible_to(user).order_by("path")
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        self.can_request = regions.exists()


def batch_form(user: Any, data: Any = None) -> BatchRequestForm:
    """The batch request form for `user`, in the page's language by default."""
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    # Its own ids: it sits on the reports page beside the report request form.
    return BatchRequestForm(data, user=user, initial={"language": language}, auto_id="id_batch_%s")


def _batch_or_404(request: HttpRequest, batch_id: int) -> ReportBatch:
    found = batches.batch_for(request.user, batch_id)
    if found is None:
        raise Http404(_("No such report batch."))
    return found


def _page_context(found: ReportBatch) -> dict[str, Any]:
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    return {
        "batch": found,
        "framework_title": (
            context.framework_title(found.framework, language) if found.framework else ""
        ),
        "progress": batches.batch_progress(found),
        "jobs": list(batches.batch_jobs(found)),
    }


@login_required
@require_POST
def batch_request(request: HttpRequest) -> HttpResponse:
    """Request every cluster report of a region's round, then go to the batch's page."""
    form = batch_form(request.user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            found, _how = batches.report_batch_request(
                request.user,
                region=data["region"],
                framework=data.get("framework"),
                year=data.get("year"),
                language=data["language"],
                shareable=data["shareable"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except selectors.TargetNotFound as exc:
            form.add_error("region", exc.message)
        else:
            return redirect("report-batch", batch_id=found.pk)
    return render(
        request,
        "reports/batch/request.html",
        {"form": form, "batches": batches.recent_batches(request.user)},
        status=400,
    )


@login_required
@require_GET
def batch_page(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A batch's page: its progress bar, each cluster's status, and the zip when ready."""
    return render(
        request, "reports/batch/batch.html", _page_context(_batch_or_404(request, batch_id))
    )


@login_required
@require_GET
def batch_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The fragment htmx polls until the batch is done or failed."""
    return render(
        request, "reports/batch/_progress.html", _page_context(_batch_or_404(request, batch_id))
    )


@login_required
@require_GET
def batch_download(request: HttpRequest, batch_id: int) -> HttpResponseBase:
    """Stream the batch's zip after the scope check; 409 while it is not ready."""
    found = _batch_or_404(request, batch_id)
    if found.status != ReportBatch.Status.DONE or not found.zip:
        context = _page_context(found)
        context["message"] = (
            found.error
            if found.status == ReportBatch.Status.FAILED
            else _("The zip is not ready yet.")
        )
        return render(request, "reports/batch/batch.html", context, status=409)
    try:
        handle = found.zip.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file has expired. Request the batch again.")) from None
    batches.batch_download_record(request.user, found, via="page")
    name = f"cluster-reports-{found.pk}-{found.language}.zip"
    return FileResponse(handle, as_attachment=True, filename=name)
