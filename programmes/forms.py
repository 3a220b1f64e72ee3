"""Forms of the programme pages: the provider register, projects, stages, ratings.

Forms parse and bound the input; every programme rule is checked by the services
(`programmes.services`, `programmes.register`), whose `ProgrammeRuleError` the views attach to
the field it names (`attach_rule_error`).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from clusters import uscc
from clusters.models import Firm, Region
from clusters.validators import validate_phone, validate_uscc
from programmes import importing
from programmes.models import Programme, Provider, ProviderRating, RetrofitProject
from programmes.services import COMMENT_MAX, ProgrammeRuleError

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {
    "required": False,
    "min_value": 0,
    "max_digits": 12,
    "decimal_places": 2,
    "widget": forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
}


def attach_rule_error(form: forms.Form, error: ProgrammeRuleError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class _Choices:
    def choice(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, cast(forms.Form, self).fields[name])

    def model_choice(self, name: str) -> forms.ModelChoiceField:
        return cast(forms.ModelChoiceField, cast(forms.Form, self).fields[name])


class _RegionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return obj.name


class _RegionsChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return obj.name


class ProviderForm(_Choices, forms.Form):
    """A register entry: credit code, name, type, products, regions and contact."""

    uscc = forms.CharField(
        label=_("Unified social credit code"), max_length=40, validators=[validate_uscc]
    )
    name = forms.CharField(label=_("Name"), max_length=importing.MAX_NAME)
    kind = forms.ChoiceField(label=_("Type"), choices=Provider.Kind.choices)
    products = forms.CharField(
        label=_("Products and services"),
        required=False,
        max_length=importing.MAX_PRODUCTS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    region = _RegionChoice(label=_("Register of"), queryset=Region.objects.none())
    regions_served = _RegionsChoice(
        label=_("Regions served"),
        queryset=Region.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    contact_person = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    contact_phone = forms.CharField(
        label=_("Contact telephone"), max_length=40, required=False, validators=[validate_phone]
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_choice("region").queryset = regions
        self.model_choice("regions_served").queryset = regions

    def clean_uscc(self) -> str:
        """The code in its normal form (upper case, no blanks)."""
        return uscc.normalise(self.cleaned_data["uscc"])

    def clean_contact_email(self) -> str:
        email: str = self.cleaned_data["contact_email"]
        local, _at, domain = email.rpartition("@")
        return f"{local}@{domain.lower()}" if email else ""

    @staticmethod
    def initial_for(provider: Provider) -> dict[str, Any]:
        """The form's initial values for an existing entry."""
        return {
            "uscc": provider.uscc,
            "name": provider.name,
            "kind": provider.kind,
            "products": provider.products,
            "region": provider.region_id,
            "regions_served": list(provider.regions_served.values_list("pk", flat=True)),
            "contact_person": provider.contact_person,
            "contact_email": provider.contact_email,
            "contact_phone": provider.contact_phone,
        }


class ProviderImportForm(_Choices, forms.Form):
    """One XLSX or CSV file, at most 10 MB, for one region's register."""

    region = _RegionChoice(label=_("Register of"), queryset=Region.objects.none())
    file = forms.FileField(
        label=_("Provider file (XLSX or CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_choice("region").queryset = regions
        if regions.count() == 1:
            self.fields["region"].initial = regions.first()

    def clean_file(self) -> Any:
        """The uploaded file, refused early when it is over the size limit."""
        upload = self.cleaned_data["file"]
        if upload.size > importing.sheets.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size).1f MB; the limit is 10 MB. Split it into smaller files.")
                % {"size": upload.size / 1024 / 1024}
            )
        return upload


class ProjectFilterForm(_Choices, forms.Form):
    """The programme page's filters: stage, provider, and a firm's name or credit code."""

    stage = forms.ChoiceField(label=_("Stage"), required=False)
    provider = forms.TypedChoiceField(
        label=_("Provider"), required=False, coerce=int, empty_value=None
    )
    q = forms.CharField(label=_("Firm name or credit code"), required=False, max_length=100)

    def __init__(self, *args: Any, providers: list[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice("stage").choices = [("", _("All stages")), *RetrofitProject.Stage.choices]
        self.choice("provider").choices = [("", _("All providers"))] + [
            (p.pk, p.name) for p in providers
        ]


class FirmSearchForm(forms.Form):
    """Find a firm of the programme's region by name or credit code."""

    q = forms.CharField(label=_("Firm name or credit code"), required=False, max_length=100)


class _FirmChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Firm) -> str:
        return f"{obj.name} ({obj.uscc})"


class _ProviderChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Provider) -> str:
        return f"{obj.name} · {obj.get_kind_display()}"


class _AssessmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        when = obj.submitted_at.strftime("%Y-%m-%d") if obj.submitted_at else "—"
        return f"{obj.round.name} · {when} · {obj.level or '—'}"


class ProjectDetailsForm(_Choices, forms.Form):
    """A project's details: provider, title, targeted questions, dates and money."""

    provider = _ProviderChoice(label=_("Service provider"), queryset=Provider.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    targeted_questions = forms.MultipleChoiceField(
        label=_("Targeted questions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=DATE)
    budget_10k_cny = forms.DecimalField(label=_("Budget (10k CNY)"), **MONEY)
    subsidy_10k_cny = forms.DecimalField(label=_("Subsidy (10k CNY)"), **MONEY)

    def __init__(
        self,
        *args: Any,
        programme: Programme,
        providers: QuerySet[Provider],
        questions: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.model_choice("provider").queryset = providers
        self.choice("targeted_questions").choices = questions

    def details(self) -> dict[str, Any]:
        """The cleaned details, as the services take them."""
        data = self.cleaned_data
        return {
            "provider": data["provider"],
            "title": data["title"].strip(),
            "targeted_questions": list(data["targeted_questions"]),
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "budget_10k_cny": data["budget_10k_cny"],
            "subsidy_10k_cny": data["subsidy_10k_cny"],
        }

    @staticmethod
    def initial_for(project: RetrofitProject) -> dict[str, Any]:
        """The form's initial values for an existing project."""
        return {
            "provider": project.provider_id,
            "title": project.title,
            "targeted_questions": list(project.targeted_questions or []),
            "starts_on": project.starts_on,
            "ends_on": project.ends_on,
            "budget_10k_cny": project.budget_10k_cny,
            "subsidy_10k_cny": project.subsidy_10k_cny,
        }


class ProjectCreateForm(ProjectDetailsForm):
    """A new project: the firm (found by search), its baseline, and the details."""

    field_order = ["firm", "baseline", "provider", "title"]

    firm = _FirmChoice(label=_("Firm"), queryset=Firm.objects.none(), widget=forms.HiddenInput)
    baseline = _AssessmentChoice(
        label=_("Baseline assessment"),
        queryset=Firm.objects.none(),
        required=False,
        empty_label=_("None yet: link it later"),
    )

    def __init__(
        self,
        *args: Any,
        firms: QuerySet[Firm],
        baselines: QuerySet[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.model_choice("firm").queryset = firms
        self.model_choice("baseline").queryset = baselines


class StageMoveForm(_Choices, forms.Form):
    """Move a project to one of its next stages, with a note."""

    to_stage = forms.ChoiceField(label=_("Move to"))
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": "1000"}),
    )

    def __init__(self, *args: Any, stages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(RetrofitProject.Stage.choices)
        self.choice("to_stage").choices = [(s, labels[s]) for s in stages]


class LinkForm(_Choices, forms.Form):
    """Link the baseline or the acceptance assessment (the form's prefix says which)."""

    # Which one comes as the POST's unprefixed "role"; the form's prefix is the role too.
    assessment = _AssessmentChoice(label=_("Assessment"), queryset=Firm.objects.none())

    def __init__(self, *args: Any, assessments: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_choice("assessment").queryset = assessments


class RatingForm(forms.Form):
    """The firm's rating of its provider: 1 to 5, and a comment."""

    score = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=[(n, str(n)) for n in ProviderRating.SCALE],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": str(COMMENT_MAX)}),
    )
