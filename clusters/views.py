"""Official pages: my clusters, a cluster's firms, the register import, template and export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clusters import exporting, selectors
from clusters.forms import FirmFilterForm, RegisterUploadForm
from clusters.models import Cluster, Firm, Region, RegisterUpload
from clusters.services import ImportRejected, register_upload_commit, register_upload_create

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50


def _cluster_or_404(request: HttpRequest, slug: str) -> Cluster:
    """The cluster when it is in the user's scope; 404 otherwise (never say it exists)."""
    return get_object_or_404(selectors.clusters_visible_to(request.user), slug=slug)


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def cluster_list(request: HttpRequest) -> HttpResponse:
    """The clusters the user oversees, with their firm counts."""
    clusters = (
        selectors.clusters_visible_to(request.user)
        .select_related("region")
        .annotate(firm_count=Count("memberships"))
        .order_by("region__path", "slug")
    )
    return render(request, "clusters/cluster_list.html", {"clusters": clusters})


def _filtered_firms(firms: QuerySet[Firm], form: FirmFilterForm) -> QuerySet[Firm]:
    if not form.is_valid():
        return firms
    data = form.cleaned_data
    if data["q"]:
        q = data["q"].strip()
        firms = firms.filter(Q(name__icontains=q) | Q(uscc__icontains=q.upper()))
    if data["size"]:
        firms = firms.filter(size_class=data["size"])
    if data["industry"]:
        firms = firms.filter(industry_division=data["industry"])
    if data["region"]:
        region = Region.objects.filter(pk=data["region"]).first()
        if region is not None:
            firms = firms.filter(region__path__startswith=region.path)
    return firms


@login_required
@require_GET
def cluster_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A cluster's firms: search, filters and pages."""
    cluster = _cluster_or_404(request, slug)
    regions = list(Region.objects.filter(path__startswith=cluster.region.path))
    form = FirmFilterForm(request.GET or None, regions=regions)
    firms = _filtered_firms(
        selectors.cluster_firms(request.user, cluster).select_related("region"), form
    ).order_by("name", "pk")
    page = Paginator(firms, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clusters/cluster_detail.html",
        {
            "cluster": cluster,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "uploads": cluster.uploads.filter(status=RegisterUpload.Status.IMPORTED).select_related(
                "uploaded_by"
            )[:5],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def cluster_import(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload a register file and show its preview: problems, or what will be written."""
    cluster = _cluster_or_404(request, slug)
    form = RegisterUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"cluster": cluster, "form": form}
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        data = upload_file.read()
        upload, checked = register_upload_create(
            cluster=cluster, user=request.user, data=data, filename=upload_file.name
        )
        context.update({"upload": upload, "checked": checked, "preview": checked.rows[:20]})
    return render(request, "clusters/cluster_import.html", context)


@login_required
@require_POST
def cluster_import_commit(request: HttpRequest, slug: str, upload_id: int) -> HttpResponse:
    """Import a previewed upload, all or nothing."""
    cluster = _cluster_or_404(request, slug)
    upload = get_object_or_404(
        RegisterUpload, pk=upload_id, cluster=cluster, uploaded_by=request.user
    )
    try:
        outcome = register_upload_commit(upload, user=request.user)
    except ImportRejected as rejected:
        return render(
            request,
            "clusters/cluster_import.html",
            {
                "cluster": cluster,
                "form": RegisterUploadForm(),
                "commit_problems": rejected.problems,
                "more_problems": rejected.more,
            },
            status=400,
        )
    messages.success(
        request,
        _(
            "Imported %(rows)d rows: %(created)d firms created, %(updated)d updated, "
            "%(joined)d added to the cluster."
        )
        % {
            "rows": outcome.rows,
            "created": outcome.created,
            "updated": outcome.updated,
            "joined": outcome.joined,
        },
    )
    return redirect("clusters:detail", slug=cluster.slug)


@login_required
@require_GET
def register_template(request: HttpRequest) -> HttpResponse:
    """The empty register workbook, for officials."""
    if not (selectors.is_official(request.user) or request.user.is_staff):
        raise Http404
    return _xlsx(exporting.register_template(), "register-template.xlsx")


@login_required
@require_GET
def cluster_export(request: HttpRequest, slug: str) -> HttpResponse:
    """The cluster's firms as an XLSX register."""
    cluster = _cluster_or_404(request, slug)
    firms = (
        selectors.cluster_firms(request.user, cluster)
        .select_related("region")
        .order_by("name", "pk")
        .iterator(chunk_size=2000)
    )
    stamp = timezone.localdate().isoformat()
    return _xlsx(exporting.register_export(firms), f"{cluster.slug}-firms-{stamp}.xlsx")
