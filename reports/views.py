"""Report pages: request a report, watch its progress, download the files."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessments.models import Framework, FrameworkVersion
from clusters.models import Region
from clusters.selectors import clusters_visible_to, regions_visible_to
from reports import context, regional, selectors, services, targets, workspace
from reports.forms import ProgrammeReportForm, ReportRequestForm
from reports.models import ReportJob


def _form(request: HttpRequest, data: object = None) -> ReportRequestForm:
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    return ReportRequestForm(
        data,
        initial={"language": language},
        clusters=clusters_visible_to(request.user),
        regions=regions_visible_to(request.user),
    )


def _index(request: HttpRequest, form: ReportRequestForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "reports/index.html",
        {
            "form": form,
            "jobs": selectors.recent_jobs(request.user),
        },
        status=status,
    )


@login_required
@require_GET
def report_index(request: HttpRequest) -> HttpResponse:
    """The reports page: a request form and the user's recent jobs."""
    form = _form(request)
    if request.GET.get("cluster"):
        form.initial.update(kind=ReportJob.Kind.CLUSTER, cluster=request.GET["cluster"][:80])
    elif request.GET.get("region"):
        # From the regional comparison page: the same framework and year, preselected.
        form.initial.update(
            kind=ReportJob.Kind.REGION,
            region=request.GET["region"][:20],
            framework=request.GET.get("framework", "")[:80],
            year=request.GET.get("year", "")[:8],
        )
    return _index(request, form)


@login_required
@require_POST
def report_request(request: HttpRequest) -> HttpResponse:
    """Request a report, then go to its progress page."""
    form = _form(request, request.POST)
    if not form.is_valid():
        return _index(request, form, status=400)
    data = form.cleaned_data
    try:
        job, _how = services.report_request(
            request.user,
            kind=data["kind"],
            language=data["language"],
            shareable=data["shareable"],
            cluster=data.get("cluster"),
            round_=data.get("round"),
            region=data.get("region"),
            framework=data.get("framework"),
            year=data.get("year"),
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _index(request, form, status=400)
    except selectors.TargetNotFound as exc:
        # The form offers only targets in the user's scope; should the service still refuse
        # one, the answer is the same "no such …" as for a target that does not exist.
        field = "region" if data["kind"] == ReportJob.Kind.REGION else "cluster"
        form.add_error(field, exc.message)
        return _index(request, form, status=400)
    return redirect("report-job", job_id=job.pk)


def _job_or_404(request: HttpRequest, job_id: int) -> ReportJob:
    job = selectors.job_for(request.user, job_id)
    if job is None:
        raise Http404(_("No such report."))
    return job


@login_required
@require_GET
def report_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A job's page with its progress bar, error or download links, and a warning when its
    round has fewer than 5 submissions."""
    job = _job_or_404(request, job_id)
    return render(
        request,
        "reports/job.html",
        {"job": job, "submitted": context.round_submitted(job.round) if job.round else None},
    )


@login_required
@require_GET
def report_job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress fragment that htmx polls until the job is done or failed."""
    return render(request, "reports/_progress.html", {"job": _job_or_404(request, job_id)})


@login_required
@require_GET
def report_download(request: HttpRequest, job_id: int, fmt: str) -> HttpResponseBase:
    """Stream a job's PDF or XLSX after the permission check; 409 while it is not ready (the
    annex has its own state: being prepared, or failed, while the PDF is ready)."""
    if fmt not in {"pdf", "xlsx"}:
        raise Http404(_("This report has no such file."))
    job = _job_or_404(request, job_id)
    unavailable = services.report_file_unavailable(job, fmt)
    if unavailable is not None:
        return render(
            request, "reports/job.html", {"job": job, "message": unavailable[0]}, status=409
        )
    field = job.pdf if fmt == "pdf" else job.xlsx
    if not field:
        raise Http404(_("This report has no such file."))
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file has expired. Request the report again.")) from None
    services.report_download_record(request.user, job, fmt, via="page")
    name = f"{job.kind}-report-{job.pk}-{job.language}.{fmt}"
    return FileResponse(handle, as_attachment=True, filename=name)


# Regions offered in the page's region picker: enough for a province's cities and counties.
REGION_CHOICES_LIMIT = 200


def _region_or_404(request: HttpRequest, region_id: int) -> Region:
    region = regions_visible_to(request.user).filter(pk=region_id).first()
    if region is None:
        raise Http404(_("No such region."))
    return region


def _region_page(
    request: HttpRequest,
    region: Region,
    query: QueryDict,
    form: workspace.TargetForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The regional comparison with the region's targets on the chosen framework (`query`:
    framework, year and sort, from the page's address or the target form)."""
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    key = regional.data_key(region)  # the figures come from the cache while it holds
    frameworks = regional.frameworks_cached(region, key)
    errors: list[str] = []
    wanted = (query.get("framework") or "")[:80]
    framework = next((f for f, _n in frameworks if f.slug == wanted), None)
    if wanted and framework is None:
        errors.append(
            _("No framework “%(slug)s” in this region: showing the default.") % {"slug": wanted}
        )
    framework = framework or (frameworks[0][0] if frameworks else None)
    year = None
    raw_year = (query.get("year") or "").strip()[:8]
    if raw_year:
        if raw_year.isdigit() and services.YEAR_MIN <= int(raw_year) <= services.YEAR_MAX:
            year = int(raw_year)
        else:
            errors.append(
                _("Year: enter a year between %(low)s and %(high)s, or leave it empty.")
                % {"low": services.YEAR_MIN, "high": services.YEAR_MAX}
            )
    sort = regional.parse_sort(query.get("sort"))
    report = None
    progress: list[targets.TargetProgress] = []
    if framework is not None:
        report = regional.report_cached(
            region, key, language=language, framework=framework, year=year
        )
        report = regional.sorted_report(report, *sort)
        progress = targets.progress_for_region(region, framework, language=language)
        if form is None:
            version = _target_version(framework)
            if version is not None:
                form = workspace.TargetForm(version=version, language=language)
    params = {"framework": framework.slug if framework else ""}
    if year is not None:
        params["year"] = str(year)
    return render(
        request,
        "reports/region.html",
        {
            "region": region,
            "regions": regions_visible_to(request.user).order_by("path")[:REGION_CHOICES_LIMIT],
            "frameworks": [(f, n, context.framework_title(f, language)) for f, n in frameworks],
            "framework": framework,
            "framework_title": context.framework_title(framework, language) if framework else "",
            "year": year,
            "raw_year": raw_year,
            "errors": errors,
            "report": report,
            "columns": regional.columns(sort, params),
            "sort": sort,
            "targets": progress,
            "form": form,
        },
        status=400 if errors else status,
    )


def _target_version(framework: Framework) -> FrameworkVersion | None:
    """The version whose levels a region's target form offers: the latest published."""
    try:
        return targets.reference_version(framework, None)
    except ValidationError:
        return None


@login_required
@require_GET
def report_region(request: HttpRequest, region_id: int) -> HttpResponse:
    """The clusters of a region side by side on one framework, sorted by ?sort=; the figures
    are the regional report's (reports.context.region_report). Out of scope: 404."""
    return _region_page(request, _region_or_404(request, region_id), request.GET)


def _back_to_region(region: Region, query: QueryDict) -> HttpResponse:
    keep = {k: query[k][:80] for k in ("framework", "year", "sort") if query.get(k)}
    url = reverse("report-region", kwargs={"region_id": region.pk})
    return redirect(f"{url}?{urlencode(keep)}#targets" if keep else f"{url}#targets")


@login_required
@require_POST
def region_target_create(request: HttpRequest, region_id: int) -> HttpResponse:
    """Set a target for the region on the framework chosen on the page (POST framework=)."""
    region = _region_or_404(request, region_id)
    wanted = (request.POST.get("framework") or "")[:80]
    framework = next((f for f, _n in context.region_frameworks(region) if f.slug == wanted), None)
    version = _target_version(framework) if framework is not None else None
    if version is None:
        raise Http404(_("No such framework in this region."))
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    form = workspace.TargetForm(request.POST, version=version, language=language)
    if workspace.form_save(request, form, region=region, version=version):
        return _back_to_region(region, request.POST)
    return _region_page(request, region, request.POST, form=form, status=400)


@login_required
@require_POST
def region_target_remove(request: HttpRequest, region_id: int, target_id: int) -> HttpResponse:
    """Remove one of the region's targets."""
    region = _region_or_404(request, region_id)
    found = targets.targets_visible_to(request.user).filter(pk=target_id, region=region).first()
    if found is None:
        raise Http404(_("No such target."))
    targets.target_delete(request.user, found)
    messages.success(request, _("The target is removed."))
    return _back_to_region(region, request.POST)


@login_required
@require_POST
def report_programme_request(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Request a programme's report (issue 13), then go to its progress page. A programme the
    user may not report on answers exactly like one that does not exist (404)."""
    try:
        programme = selectors.programme_report_target(request.user, programme_id)
    except selectors.TargetNotFound as exc:
        raise Http404(exc.message) from None
    form = ProgrammeReportForm(request.POST)
    if form.is_valid():
        try:
            job, _how = services.report_request(
                request.user,
                kind=ReportJob.Kind.PROGRAMME,
                language=form.cleaned_data["language"],
                shareable=form.cleaned_data["shareable"],
                programme=programme,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("report-job", job_id=job.pk)
    return render(
        request,
        "reports/programme_request.html",
        {"programme": programme, "form": form},
        status=400,
    )
