"""The report request form: what to render, in which language, for whom."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from assessments.models import Round
from clusters.models import Cluster, Region
from reports.models import ReportJob
from reports.selectors import NO_SUCH_CLUSTER, NO_SUCH_REGION, NO_SUCH_ROUND


class _RoundChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Round) -> str:
        return f"{obj.cluster.name} · {obj.name}"


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
        empty_label=_("Latest round"),
        error_messages={"invalid_choice": NO_SUCH_ROUND},
    )
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.none(),
        required=False,
        error_messages={"invalid_choice": NO_SUCH_REGION},
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
        if clusters is not None:
            self._choice("cluster").queryset = clusters
            only = list(clusters[:2])
            if len(only) == 1:
                self.fields["cluster"].initial = only[0].slug  # nothing to choose
            self.can_request = bool(only)
            self._choice("round").queryset = Round.objects.filter(
                cluster__in=clusters
            ).select_related("cluster")
        if regions is not None:
            self._choice("region").queryset = regions
            if regions.exists():
                self.can_request = True
            else:
                # A cluster official has no region to compare: offer the cluster report only.
                del self.fields["region"]
                cast(forms.ChoiceField, self.fields["kind"]).choices = [
                    (ReportJob.Kind.CLUSTER, _("Cluster report"))
                ]

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
