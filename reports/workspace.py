"""The officials' workspace pages: a cluster's live dashboard and its targets.

Thin views: the cluster is looked up inside the user's scope (out of scope answers exactly like
a cluster that does not exist), the figures come from reports/dashboard.py and targets are
written by reports/targets.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessments.framework import text
from assessments.models import FrameworkVersion, Round
from assessments.versions import framework_for
from clusters.models import Cluster
from reports import charts, dashboard, pdf, targets
from reports.selectors import NO_SUCH_ROUND

Counts = dict[int, list[dashboard.Cell]]


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


class TargetForm(forms.Form):
    """A cluster's target on the framework of the dashboard's round."""

    level = forms.ChoiceField(label=gettext_lazy("Level or above"))
    firms = forms.IntegerField(
        label=gettext_lazy("Number of firms"), min_value=1, max_value=targets.MAX_FIRMS
    )
    deadline = forms.DateField(
        label=gettext_lazy("Deadline"), widget=forms.DateInput(attrs={"type": "date"})
    )
    industry = forms.CharField(
        label=gettext_lazy("Industry (GB/T 4754 code, optional)"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "C34"}),
    )
    this_version = forms.BooleanField(
        label=gettext_lazy("Count this framework version only"), required=False
    )

    def __init__(self, *args: Any, version: FrameworkVersion, language: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        fw = framework_for(version)
        level = self.fields["level"]
        assert isinstance(level, forms.ChoiceField)
        level.choices = [(lv.code, text(lv.title, language)) for lv in fw.levels]
        level.initial = fw.bands.basic
        self.fields["deadline"].initial = dt.date(timezone.localdate().year + 1, 6, 30)


def form_save(
    request: HttpRequest, form: TargetForm, *, version: FrameworkVersion, **subject: Any
) -> bool:
    """Set the form's target for the subject (cluster= or region=) through the service, on the
    version's framework; True when it is stored, else its errors are on the form."""
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        targets.target_set(
            request.user,
            framework=version.framework,
            framework_version=version if data["this_version"] else None,
            level=data["level"],
            firms=data["firms"],
            deadline=data["deadline"],
            industry=data["industry"],
            **subject,
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return False
    messages.success(request, _("The target is set."))
    return True


def _page(
    request: HttpRequest,
    cluster: Cluster,
    rounds: list[Round],
    counts: Counts,
    round_: Round | None,
    form: TargetForm | None = None,
    status: int = 200,
) -> HttpResponse:
    language = _language()
    board = dashboard.dashboard(cluster, round_, rounds, counts, language=language)
    chart = ""
    if len(board.trend) >= 1:
        chart = charts.trend_chart(
            [t.name for t in board.trend],
            [t.basic_share for t in board.trend],
            [t.advanced_share for t in board.trend],
            font=pdf.cjk_font_family(),
        )
    if form is None and round_ is not None:
        form = TargetForm(version=round_.framework_version, language=language)
    return render(
        request,
        "reports/dashboard.html",
        {
            "cluster": cluster,
            "board": board,
            "report": board.report,
            "trend_svg": chart,
            "support": dashboard.support_page(board, request.GET.get("page")),
            "form": form,
            "latest_response": board.response[:6],
        },
        status=status,
    )


@login_required
@require_GET
def cluster_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """A cluster's live dashboard for one round (?round=, default the latest with results)."""
    cluster, rounds, counts, round_ = dashboard.dashboard_subject(
        request.user, slug, request.GET.get("round")
    )
    return _page(request, cluster, rounds, counts, round_)


@login_required
@require_POST
def target_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Set a target for the cluster on the framework of the chosen round."""
    cluster, rounds, counts, round_ = dashboard.dashboard_subject(
        request.user, slug, request.POST.get("round")
    )
    if round_ is None:
        raise Http404(NO_SUCH_ROUND)
    version = round_.framework_version
    form = TargetForm(request.POST, version=version, language=_language())
    if form_save(request, form, cluster=cluster, version=version):
        url = reverse("report-dashboard", args=[cluster.slug])
        return redirect(f"{url}?round={round_.pk}#targets")
    return _page(request, cluster, rounds, counts, round_, form=form, status=400)


@login_required
@require_POST
def target_remove(request: HttpRequest, slug: str, target_id: int) -> HttpResponse:
    """Remove one of the cluster's targets."""
    cluster = dashboard.cluster_in_scope(request.user, slug)
    found = targets.targets_visible_to(request.user).filter(pk=target_id, cluster=cluster).first()
    if found is None:
        raise Http404(_("No such target."))
    targets.target_delete(request.user, found)
    messages.success(request, _("The target is removed."))
    url = reverse("report-dashboard", args=[cluster.slug])
    query = f"?round={request.POST['round']}" if request.POST.get("round", "").isdigit() else ""
    return redirect(f"{url}{query}#targets")
