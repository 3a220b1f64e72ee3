"""Forms of the official pages: the register upload and the firm list filters."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clusters import importing, industries
from clusters.models import Firm, Region


class RegisterUploadForm(forms.Form):
    """One XLSX or CSV file, at most 10 MB."""

    file = forms.FileField(
        label=_("Register file (XLSX or CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self) -> Any:
        """The uploaded file, refused early when it is over the size limit."""
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size).1f MB; the limit is 10 MB. Split it into smaller files.")
                % {"size": upload.size / 1024 / 1024}
            )
        return upload


class FirmFilterForm(forms.Form):
    """Search by name or code, and filter by size class, industry division and region."""

    q = forms.CharField(label=_("Name or code"), required=False, max_length=100)
    size = forms.ChoiceField(label=_("Size class"), required=False)
    industry = forms.ChoiceField(label=_("Industry"), required=False)
    region = forms.TypedChoiceField(label=_("Region"), required=False, coerce=int, empty_value=None)

    def _choices(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def __init__(self, *args: Any, regions: list[Region] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices("size").choices = [("", _("All sizes")), *Firm.SizeClass.choices]
        name_index = 0 if (get_language() or "zh-hans").startswith("zh") else 1
        self._choices("industry").choices = [("", _("All industries"))] + [
            (code, f"C{code} {names[name_index]}")
            for code, names in industries.MANUFACTURING_DIVISIONS.items()
        ]
        self._choices("region").choices = [("", _("All regions"))] + [
            (r.pk, r.name) for r in (regions or [])
        ]
