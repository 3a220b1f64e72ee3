"""Forms of the assessors' pages: the work list's filters and the visit date."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from clusters.models import Cluster
from programmes.models import Programme

SEARCH_MAX = 100


class WorklistFilterForm(forms.Form):
    """Search by firm name or credit code, filter by programme and cluster (all optional)."""

    q = forms.CharField(label=_("Firm name or credit code"), max_length=SEARCH_MAX, required=False)
    programme = forms.ModelChoiceField(
        label=_("Programme"), queryset=Programme.objects.none(), required=False
    )
    cluster = forms.ModelChoiceField(
        label=_("Cluster"), queryset=Cluster.objects.none(), required=False
    )

    def __init__(
        self,
        data: Any,
        *,
        programmes: QuerySet[Programme],
        clusters: QuerySet[Cluster],
    ) -> None:
        super().__init__(data)
        programme_field = self.fields["programme"]
        cluster_field = self.fields["cluster"]
        assert isinstance(programme_field, forms.ModelChoiceField)
        assert isinstance(cluster_field, forms.ModelChoiceField)
        programme_field.queryset = programmes
        programme_field.empty_label = _("All programmes")
        cluster_field.queryset = clusters
        cluster_field.empty_label = _("All clusters")

    def filters(self) -> tuple[str, Programme | None, Cluster | None]:
        """The valid filters: a filter that does not validate (unknown, or outside the
        assessor's scope) is dropped, like an unknown one."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        search = (data.get("q") or "").strip() if "q" not in self.errors else ""
        programme = data.get("programme") if "programme" not in self.errors else None
        cluster = data.get("cluster") if "cluster" not in self.errors else None
        return search, programme, cluster


class VisitForm(forms.Form):
    """The date of the on-site visit."""

    visited_on = forms.DateField(
        label=_("Visited on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the visit date as YYYY-MM-DD.")},
    )
