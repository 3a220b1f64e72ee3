"""Pages of the programme: programmes, projects, providers and their register, "our projects".

Thin views: they find what the user may see through `programmes.selectors` (anything else is a
404, exactly like something that does not exist), parse a form, call a service and show its
refusal next to the field it names. Who may write: officials who run the programme
(`can_manage_project`) for projects, the region's officials for its provider register, the
firm's own users for the rating; everyone else with sight gets read-only pages.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments.selectors import assessments_visible_to
from clusters import selectors as cluster_selectors
from clusters.models import Firm
from programmes import board, forms, register, selectors, services
from programmes.models import Programme, Provider, ProviderRating, RetrofitProject
from programmes.services import ProgrammeRuleError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
FIRM_CHOICES = 20  # firms listed by the project form's search
IMPORTS_KEY = "provider_imports"  # session: previewed provider files awaiting confirmation
IMPORTS_KEPT = 5


def _project_queryset(projects: QuerySet[RetrofitProject]) -> QuerySet[RetrofitProject]:
    return projects.select_related("firm", "provider", "baseline", "acceptance", "programme")


def _manager_of(request: HttpRequest, programme: Programme) -> bool:
    return selectors.programmes_managed_by(request.user).filter(pk=programme.pk).exists()


# --- Programmes -------------------------------------------------------------------------------


@login_required
@require_GET
def programme_list(request: HttpRequest) -> HttpResponse:
    """The programmes the user may see."""
    programmes = (
        selectors.programmes_visible_to(request.user)
        .select_related("region", "framework_version__framework")
        .order_by("-starts_on", "slug")
    )
    return render(
        request,
        "programmes/programme_list.html",
        {
            "programmes": programmes,
            "keeps_register": selectors.regions_managed_by(request.user).exists(),
            "sees_providers": selectors.providers_visible_to(request.user).exists(),
        },
    )


def _filtered(projects: QuerySet[RetrofitProject], form: forms.ProjectFilterForm) -> Any:
    if not form.is_valid():
        return projects
    data = form.cleaned_data
    if data["stage"]:
        projects = projects.filter(stage=data["stage"])
    if data["provider"]:
        projects = projects.filter(provider_id=data["provider"])
    if data["q"]:
        q = data["q"].strip()
        projects = projects.filter(Q(firm__name__icontains=q) | Q(firm__uscc__icontains=q.upper()))
    return projects


@login_required
@require_GET
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A programme: its firms by stage, the project table, and the target's progress."""
    programme = selectors.programme_for_user(request.user, pk)
    projects = selectors.projects_visible_to(request.user).filter(programme=programme)
    providers = list(
        Provider.objects.filter(pk__in=projects.values("provider_id")).order_by("name")
    )
    form = forms.ProjectFilterForm(request.GET or None, providers=providers)
    shown = _project_queryset(_filtered(projects, form)).order_by("firm__name", "pk")
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    manager = _manager_of(request, programme)
    return render(
        request,
        "programmes/programme_detail.html",
        {
            "programme": programme,
            "counts": board.stage_counts(projects),
            "total": projects.count(),
            "progress": board.progress(programme, projects),
            "form": form,
            "page": page,
            "rows": board.project_rows(programme, page.object_list),
            "query": query.urlencode(),
            "manager": manager,
            "filtered": form.is_valid() and any(form.cleaned_data.values()),
        },
    )


# --- Projects ---------------------------------------------------------------------------------


def _managed_programme(request: HttpRequest, pk: int) -> Programme:
    programme = (
        selectors.programmes_managed_by(request.user)
        .select_related("region", "framework_version__framework")
        .filter(pk=pk)
        .first()
    )
    if programme is None:
        raise Http404
    return programme


def _programme_firms(request: HttpRequest, programme: Programme) -> QuerySet[Firm]:
    """Firms the user sees that lie in the programme's region (their own or a cluster's)."""
    path = programme.region.path
    if not path:
        return Firm.objects.none()
    return cluster_selectors.firms_visible_to(request.user).filter(
        Q(region__path__startswith=path) | Q(memberships__cluster__region__path__startswith=path)
    )


def _linkable(request: HttpRequest, programme: Programme, firm_id: int) -> QuerySet[Any]:
    """The firm's submitted assessments on the programme's version that the user sees."""
    return board.assessment_choices(programme, firm_id).filter(
        pk__in=assessments_visible_to(request.user).values("pk")
    )


def _providers_for(request: HttpRequest) -> QuerySet[Provider]:
    return selectors.providers_visible_to(request.user).order_by("name")


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a project: find the firm, then its provider, targets, dates, money and baseline."""
    programme = _managed_programme(request, pk)
    firms = _programme_firms(request, programme)
    search = forms.FirmSearchForm(request.GET or None)
    found: list[Firm] = []
    q = ""
    if search.is_valid() and search.cleaned_data["q"].strip():
        q = search.cleaned_data["q"].strip()
        found = list(
            firms.filter(Q(name__icontains=q) | Q(uscc__icontains=q.upper()))
            .distinct()
            .order_by("name", "pk")[:FIRM_CHOICES]
        )
    firm_id = request.POST.get("firm") or request.GET.get("firm")
    firm = None
    if firm_id and str(firm_id).isdigit():
        firm = firms.filter(pk=int(firm_id)).distinct().first()
    context: dict[str, Any] = {
        "programme": programme,
        "search": search,
        "found": found,
        "q": q,
        "firm": firm,
        "groups": board.question_groups(programme),
    }
    if firm is None:
        if request.method == "POST":
            context["firm_error"] = _("Choose the firm first: search by its name or credit code.")
        return render(request, "programmes/project_create.html", context)
    existing = RetrofitProject.objects.filter(programme=programme, firm=firm).first()
    groups = context["groups"]
    questions = [pair for group in groups for pair in group.questions]
    baselines = _linkable(request, programme, firm.pk)
    form = forms.ProjectCreateForm(
        request.POST or None,
        initial={"firm": firm.pk, "baseline": baselines.values_list("pk", flat=True).first()},
        programme=programme,
        providers=_providers_for(request),
        questions=questions,
        firms=firms.distinct(),
        baselines=assessments_visible_to(request.user).filter(firm=firm),
    )
    form.model_choice("baseline").widget.choices = [("", _("None yet: link it later"))] + [
        (a.pk, form.model_choice("baseline").label_from_instance(a)) for a in baselines
    ]
    context.update({"form": form, "existing": existing})
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(
                programme,
                firm=form.cleaned_data["firm"],
                user=request.user,
                baseline=form.cleaned_data["baseline"],
                **form.details(),
            )
        except ProgrammeRuleError as error:
            forms.attach_rule_error(form, error)
        else:
            messages.success(request, _("The project of %(firm)s is open.") % {"firm": firm.name})
            return redirect("programmes:project", pk=project.pk)
    return render(request, "programmes/project_create.html", context, status=_status(request, form))


def _status(request: HttpRequest, form: Any) -> int:
    return 400 if request.method == "POST" and form is not None and form.errors else 200


def _project_context(
    request: HttpRequest, project: RetrofitProject, **extra: Any
) -> dict[str, Any]:
    programme = project.programme
    visible = set(
        assessments_visible_to(request.user)
        .filter(pk__in=[project.baseline_id or 0, project.acceptance_id or 0])
        .values_list("pk", flat=True)
    )
    manager = selectors.can_manage_project(request.user, project)
    own_firm = cluster_selectors.user_firms(request.user).filter(pk=project.firm_id).exists()
    rating = ProviderRating.objects.filter(project=project).first()
    labels: dict[str, str] = {}
    for group in board.question_groups(programme):
        labels.update(dict(group.questions))
    context: dict[str, Any] = {
        "project": project,
        "programme": programme,
        "row": board.project_rows(programme, [project])[0],
        "visible": visible,
        "manager": manager,
        "own_firm": own_firm,
        "history": project.stage_changes.select_related("changed_by").order_by("changed_at", "pk"),
        "targets": [labels.get(code, code) for code in project.targeted_questions or []],
        "rating": rating,
        "sees_provider": selectors.providers_visible_to(request.user)
        .filter(pk=project.provider_id)
        .exists(),
    }
    if manager and not project.is_closed:
        stages = services.next_stages(project)
        context["move_form"] = extra.pop("move_form", None) or forms.StageMoveForm(stages=stages)
        choices = _linkable(request, programme, project.firm_id)
        if project.stage == RetrofitProject.Stage.DIAGNOSED:
            context["baseline_form"] = extra.pop("baseline_form", None) or forms.LinkForm(
                initial={"assessment": project.baseline_id},
                assessments=choices,
                prefix="baseline",
            )
        context["acceptance_form"] = extra.pop("acceptance_form", None) or forms.LinkForm(
            initial={"assessment": project.acceptance_id},
            assessments=choices.exclude(pk=project.baseline_id or 0),
            prefix="acceptance",
        )
    if own_firm and project.stage == RetrofitProject.Stage.ACCEPTED and rating is None:
        context["rating_form"] = extra.pop("rating_form", None) or forms.RatingForm()
    context.update(extra)
    return context


def _project(request: HttpRequest, pk: int) -> RetrofitProject:
    return selectors.project_for_user(request.user, pk)


def _managed_project(request: HttpRequest, pk: int) -> RetrofitProject:
    """A project the user runs; 404 for one they only see, as for one that does not exist."""
    project = selectors.project_for_user(request.user, pk)
    if not selectors.can_manage_project(request.user, project):
        raise Http404
    return project


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A project: details, assessments, stage history, and the forms of who may act."""
    project = _project(request, pk)
    return render(request, "programmes/project_detail.html", _project_context(request, project))


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a project's details (provider, title, targets, dates, money)."""
    project = _managed_project(request, pk)
    groups = board.question_groups(project.programme)
    form = forms.ProjectDetailsForm(
        request.POST or None,
        initial=forms.ProjectDetailsForm.initial_for(project),
        programme=project.programme,
        providers=_providers_for(request),
        questions=[pair for group in groups for pair in group.questions],
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(project, user=request.user, **form.details())
        except ProgrammeRuleError as error:
            forms.attach_rule_error(form, error)
        else:
            messages.success(request, _("The project's details are saved."))
            return redirect("programmes:project", pk=project.pk)
    return render(
        request,
        "programmes/project_edit.html",
        {"project": project, "programme": project.programme, "form": form, "groups": groups},
        status=_status(request, form),
    )


@login_required
@require_POST
def project_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the project to one of its next stages."""
    project = _managed_project(request, pk)
    form = forms.StageMoveForm(request.POST, stages=services.next_stages(project))
    if form.is_valid():
        try:
            services.project_move(
                project,
                form.cleaned_data["to_stage"],
                user=request.user,
                note=form.cleaned_data["note"].strip(),
            )
        except ProgrammeRuleError as error:
            forms.attach_rule_error(form, error)
        else:
            project.refresh_from_db()
            messages.success(
                request,
                _("The project is now at the stage %(stage)s.")
                % {"stage": project.get_stage_display()},
            )
            return redirect("programmes:project", pk=project.pk)
    project = _project(request, pk)
    return render(
        request,
        "programmes/project_detail.html",
        _project_context(request, project, move_form=form),
        status=400,
    )


@login_required
@require_POST
def project_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the project's baseline or acceptance assessment."""
    project = _managed_project(request, pk)
    role = request.POST.get("role", "")
    if role not in ("baseline", "acceptance"):
        role = "acceptance"
    choices = _linkable(request, project.programme, project.firm_id)
    # The firm's assessments that the user sees, so that the service names what is wrong
    # with a draft or one of another version; the list offers only the linkable ones.
    form = forms.LinkForm(
        request.POST,
        assessments=assessments_visible_to(request.user).filter(firm_id=project.firm_id),
        prefix=role,
    )
    if form.is_valid():
        try:
            services.project_link(
                project, user=request.user, **{role: form.cleaned_data["assessment"]}
            )
        except ProgrammeRuleError as error:
            form.add_error("assessment", error.message)
        else:
            messages.success(
                request,
                _("The baseline assessment is linked.")
                if role == "baseline"
                else _("The acceptance assessment is linked."),
            )
            return redirect("programmes:project", pk=project.pk)
    form.model_choice("assessment").queryset = (
        choices if role == "baseline" else choices.exclude(pk=project.baseline_id or 0)
    )
    project = _project(request, pk)
    return render(
        request,
        "programmes/project_detail.html",
        _project_context(request, project, **{f"{role}_form": form}),
        status=400,
    )


@login_required
@require_POST
def project_rate(request: HttpRequest, pk: int) -> HttpResponse:
    """The firm rates its provider, once, after acceptance."""
    project = _project(request, pk)
    if not cluster_selectors.user_firms(request.user).filter(pk=project.firm_id).exists():
        raise Http404
    form = forms.RatingForm(request.POST)
    if form.is_valid():
        try:
            services.provider_rate(
                project,
                user=request.user,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except ProgrammeRuleError as error:
            forms.attach_rule_error(form, error)
        else:
            messages.success(request, _("Thank you: your rating of the provider is saved."))
            return redirect("programmes:project", pk=project.pk)
    project = _project(request, pk)
    return render(
        request,
        "programmes/project_detail.html",
        _project_context(request, project, rating_form=form),
        status=400,
    )


@login_required
@require_GET
def my_projects(request: HttpRequest) -> HttpResponse:
    """ "Our projects": a provider's users see their provider's projects, a firm's users their
    firm's retrofit projects (read-only; the firm rates its provider from the project page)."""
    user = request.user
    providers = list(selectors.user_providers(user))
    firms = list(cluster_selectors.user_firms(user))
    projects = selectors.projects_visible_to(user).filter(
        Q(provider__in=providers) | Q(firm__in=firms)
    )
    shown = _project_queryset(projects).select_related("programme__framework_version")
    page = Paginator(shown.order_by("-stage_changed_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "programmes/my_projects.html",
        {
            "providers": providers,
            "firms": firms,
            "page": page,
            "rows": board.project_rows(None, page.object_list),
            "query": "",
        },
    )


# --- Providers --------------------------------------------------------------------------------


@login_required
@require_GET
def provider_list(request: HttpRequest) -> HttpResponse:
    """The providers the user may see, with links to add and import for register keepers."""
    providers = (
        selectors.providers_visible_to(request.user).select_related("region").order_by("name")
    )
    q = request.GET.get("q", "").strip()[:100]
    if q:
        providers = providers.filter(Q(name__icontains=q) | Q(uscc__icontains=q.upper()))
    page = Paginator(providers, PAGE_SIZE).get_page(request.GET.get("page"))
    managed = set(
        selectors.providers_managed_by(request.user)
        .filter(pk__in=[p.pk for p in page.object_list])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "programmes/provider_list.html",
        {
            "page": page,
            "q": q,
            "query": f"q={q}" if q else "",
            "managed": managed,
            "keeps_register": selectors.regions_managed_by(request.user).exists(),
        },
    )


@login_required
@require_GET
def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A provider: its register entry and the projects of it that the user sees."""
    provider = selectors.provider_for_user(request.user, pk)
    projects = _project_queryset(
        selectors.projects_visible_to(request.user).filter(provider=provider)
    ).select_related("programme__framework_version")
    page = Paginator(projects.order_by("firm__name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    official = cluster_selectors.is_official(request.user) or request.user.is_staff
    return render(
        request,
        "programmes/provider_detail.html",
        {
            "provider": provider,
            "served": provider.regions_served.order_by("path"),
            "page": page,
            "rows": board.project_rows(None, page.object_list),
            "query": "",
            "counts": board.stage_counts(projects),
            "manager": selectors.providers_managed_by(request.user).filter(pk=provider.pk).exists(),
            "official": official,
        },
    )


def _provider_fields(form: forms.ProviderForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {key: data[key] for key in register.FIELDS}


@login_required
@require_http_methods(["GET", "POST"])
def provider_create(request: HttpRequest) -> HttpResponse:
    """Add a provider to a register the user keeps."""
    regions = selectors.regions_managed_by(request.user).order_by("path")
    if not regions.exists():
        raise Http404
    form = forms.ProviderForm(
        request.POST or None,
        regions=regions,
        initial={"region": regions.first().pk if regions.count() == 1 else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            provider = register.provider_create(
                region=form.cleaned_data["region"],
                user=request.user,
                regions_served=form.cleaned_data["regions_served"],
                **_provider_fields(form),
            )
        except ProgrammeRuleError as error:
            forms.attach_rule_error(form, error)
        else:
            messages.success(request, _("%(name)s is in the register.") % {"name": provider.name})
            return redirect("programmes:provider", pk=provider.pk)
    return render(
        request,
        "programmes/provider_form.html",
        {"form": form, "provider": None},
        status=_status(request, form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a register entry the user keeps."""
    provider = get_object_or_404(selectors.providers_managed_by(request.user), pk=pk)
    regions = selectors.regions_managed_by(request.user).order_by("path")
    form = forms.ProviderForm(
        request.POST or None, regions=regions, initial=forms.ProviderForm.initial_for(provider)
    )
    if request.method == "POST" and form.is_valid():
        try:
            register.provider_update(
                provider,
                user=request.user,
                region=form.cleaned_data["region"],
                regions_served=form.cleaned_data["regions_served"],
                **_provider_fields(form),
            )
        except ProgrammeRuleError as error:
            forms.attach_rule_error(form, error)
        else:
            messages.success(request, _("The register entry is saved."))
            return redirect("programmes:provider", pk=provider.pk)
    return render(
        request,
        "programmes/provider_form.html",
        {"form": form, "provider": provider},
        status=_status(request, form),
    )


def _pending(request: HttpRequest) -> dict[str, dict[str, Any]]:
    pending = request.session.get(IMPORTS_KEY)
    return pending if isinstance(pending, dict) else {}


def _forget(request: HttpRequest, token: str) -> None:
    pending = _pending(request)
    entry = pending.pop(token, None)
    request.session[IMPORTS_KEY] = pending
    if entry and default_storage.exists(entry["path"]):
        default_storage.delete(entry["path"])


@login_required
@require_http_methods(["GET", "POST"])
def provider_import(request: HttpRequest) -> HttpResponse:
    """Upload a provider file and show its preview: every problem, or what will be written."""
    regions = selectors.regions_managed_by(request.user).order_by("path")
    if not regions.exists():
        raise Http404
    form = forms.ProviderImportForm(request.POST or None, request.FILES or None, regions=regions)
    context: dict[str, Any] = {
        "form": form,
        "columns": register.importing.template_columns(),
        "kinds": Provider.Kind.choices,
    }
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        region = form.cleaned_data["region"]
        checked = register.provider_file_check(
            region=region, user=request.user, data=data, filename=upload.name
        )
        context.update({"checked": checked, "preview": checked.rows[:20], "region": region})
        if checked.ok:
            # Kept in private storage until confirmed; the session ties it to this user.
            token = uuid.uuid4().hex
            suffix = "xlsx" if data.startswith(b"PK") else "csv"
            path = default_storage.save(f"provider-imports/{token}.{suffix}", ContentFile(data))
            pending = _pending(request)
            for old in list(pending)[: max(0, len(pending) - IMPORTS_KEPT + 1)]:
                _forget(request, old)
                pending = _pending(request)
            pending[token] = {"path": path, "region": region.pk, "name": upload.name[:200]}
            request.session[IMPORTS_KEY] = pending
            context["token"] = token
    return render(request, "programmes/provider_import.html", context)


@login_required
@require_POST
def provider_import_commit(request: HttpRequest, token: str) -> HttpResponse:
    """Import a previewed provider file, all or nothing."""
    entry = _pending(request).get(token)
    if entry is None:
        raise Http404
    region = get_object_or_404(selectors.regions_managed_by(request.user), pk=entry["region"])
    if not default_storage.exists(entry["path"]):
        _forget(request, token)
        raise Http404
    with default_storage.open(entry["path"], "rb") as handle:
        data = handle.read()
    try:
        outcome = register.provider_import(
            region=region, user=request.user, data=data, filename=entry["path"]
        )
    except register.ProviderImportRejected as rejected:
        _forget(request, token)
        regions = selectors.regions_managed_by(request.user).order_by("path")
        return render(
            request,
            "programmes/provider_import.html",
            {
                "form": forms.ProviderImportForm(regions=regions),
                "columns": register.importing.template_columns(),
                "commit_problems": rejected.problems,
                "more_problems": rejected.more,
            },
            status=400,
        )
    _forget(request, token)
    messages.success(
        request,
        _("Imported %(rows)d rows: %(created)d providers added, %(updated)d updated.")
        % {"rows": outcome.rows, "created": outcome.created, "updated": outcome.updated},
    )
    return redirect("programmes:providers")


@login_required
@require_GET
def provider_template(request: HttpRequest) -> HttpResponse:
    """The empty provider register workbook, for officials who keep a register."""
    if not selectors.regions_managed_by(request.user).exists():
        raise Http404
    response = HttpResponse(register.provider_template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="provider-template.xlsx"'
    return response
