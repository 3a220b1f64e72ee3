"""The report request form: what to render, in which language, for whom."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assessments.models import Assessment, Framework, Round
from clusters.models import Cluster, Region
from reports.context import is_small_sample, round_submitted
from reports.models import ReportJob
from reports.selectors import NO_SUCH_CLUSTER, NO_SUCH_REGION, NO_SUCH_ROUND
from reports.services import YEAR_MAX, YEAR_MIN


class _RoundChoice(forms.ModelChoiceField):
    """Rounds labelled with their number of submissions, and a warning under MIN_CELL."""

    def label_from_instance(self, obj: Round) -> str:
        n = getattr(obj, "submitted_count", None)
        label = f"{obj.cluster.name} · {obj.name}"
        if n is None:
            return label
        if n == 0:
            none_yet = _("no submissions yet")
            return f"{label} — ⚠ {none_yet}"
        words = ngettext("%(n)s submitted", "%(n)s submitted", n) % {"n": n}
        if is_small_sample(n):
            return f"{label} — ⚠ {words}"
        return f"{label} — {words}"


def rounds_with_counts(rounds: QuerySet[Round]) -> QuerySet[Round]:
    """The rounds with `submitted_count` annotated, newest first."""
    return (
        rounds.select_related("cluster")
        .annotate(
            submitted_count=Count(
                "assessments", filter=Q(assessments__status=Assessment.Status.SUBMITTED)
            )
        )
        .order_by("cluster__slug", "-opens_at", "-id")
    )


class ReportRequestForm(forms.Form):
    """Parse a report request; scoping is checked again by the service.

    The cluster, round and region fields offer only what the user oversees (nothing unless
    the view passes the user's clusters and regions). Anything else, whether it exists or not,
    gets the same "No such …" error as the API's 404.
    """

    kind = forms.ChoiceField(
        label=_("Report"),
        choices=[
            (ReportJob.Kind.CLUSTER, _("Cluster report")),
            (ReportJob.Kind.REGION, _("Regional report")),
        ],
    )
    cluster = forms.ModelChoiceField(
        label=_("Cluster"),
        queryset=Cluster.objects.none(),
        required=False,
        to_field_name="slug",
        error_messages={"invalid_choice": NO_SUCH_CLUSTER},
    )
    round = _RoundChoice(
        label=_("Round"),
        queryset=Round.objects.none(),
        required=False,
        empty_label=_("Latest round with submissions (or closed)"),
        error_messages={"invalid_choice": NO_SUCH_ROUND},
        help_text=_(
            "A round that has just opened is skipped unless you choose it. ⚠ marks a round "
            "with fewer than 5 submissions: its figures are not reliable, and the report says "
            "so on its cover."
        ),
    )
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.none(),
        required=False,
        error_messages={"invalid_choice": NO_SUCH_REGION},
    )
    framework = forms.ModelChoiceField(
        label=_("Framework (regional report)"),
        queryset=Framework.objects.filter(versions__status="published").distinct(),
        required=False,
        to_field_name="slug",
        empty_label=_("The framework with the most submissions in the region"),
        error_messages={"invalid_choice": _("No such framework.")},
    )
    year = forms.IntegerField(
        label=_("Rounds opened in (year, regional report)"),
        required=False,
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        help_text=_("Leave empty to compare each cluster's latest round on the framework."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    shareable = forms.BooleanField(
        label=_("Shareable edition (no firm names, cells under 5 firms suppressed)"),
        required=False,
    )

    def __init__(self, *args: Any, clusters: Any = None, regions: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # False for a user who oversees nothing (a firm user who typed the address).
        self.can_request = True
        # The round a cluster report gets when none is chosen (for a single cluster only).
        self.default_round: Round | None = None
        if clusters is not None:
            self._choice("cluster").queryset = clusters
            only = list(clusters[:2])
            if len(only) == 1:
                self.fields["cluster"].initial = only[0].slug  # nothing to choose
            self.can_request = bool(only)
            self._choice("round").queryset = rounds_with_counts(
                Round.objects.filter(cluster__in=clusters)
            )
            if len(only) == 1:
                self.default_round = Round.objects.latest_reportable_of(only[0])
        if regions is not None:
            self._choice("region").queryset = regions
            if regions.exists():
                self.can_request = True
            else:
                # A cluster official has no region to compare: offer the cluster report only.
                del self.fields["region"]
                del self.fields["framework"]
                del self.fields["year"]
                cast(forms.ChoiceField, self.fields["kind"]).choices = [
                    (ReportJob.Kind.CLUSTER, _("Cluster report"))
                ]

    @property
    def default_round_submitted(self) -> int | None:
        """Submissions in the default round (None without one): the form warns under 5."""
        if self.default_round is None:
            return None
        return round_submitted(self.default_round)

    def _choice(self, name: str) -> forms.ModelChoiceField[Any]:
        return cast("forms.ModelChoiceField[Any]", self.fields[name])

    def clean(self) -> dict[str, Any]:
        """Require the target that goes with the kind of report."""
        data = super().clean() or {}
        if data.get("kind") == ReportJob.Kind.CLUSTER and not data.get("cluster"):
            self.add_error("cluster", _("Choose a cluster for a cluster report."))
        if data.get("kind") == ReportJob.Kind.REGION and not data.get("region"):
            self.add_error("region", _("Choose a region for a regional report."))
        rnd, cluster = data.get("round"), data.get("cluster")
        if rnd is not None and cluster is not None and rnd.cluster_id != cluster.pk:
            self.add_error("round", _("That round belongs to another cluster."))
        return data


class ProgrammeReportForm(forms.Form):
    """The programme report's options (the programme comes from the address)."""

    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    shareable = forms.BooleanField(
        label=_("Shareable edition (no firm names; small figures suppressed)"), required=False
    )
