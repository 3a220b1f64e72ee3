"""Django admin for the programme: every model (the audit trail is gradient/audit_admin.py).

What the admin must not edit by hand stays read-only here:
- a project's stage moves only through `services.project_move` (the "move to" field of the
  change form, or the list's actions), so every move is a StageChange row with its actor;
  stage changes themselves are append-only;
- the other edits of a project (details, baseline, acceptance) and new projects go through
  `project_update`, `project_link` and `project_create`, so the admin refuses what the pages
  refuse, with the same words, as form errors;
- verified answers, evidence and a verification's result come from the verification pages;
  a completed verification is locked; a provider's rating, once given, is the firm's.
Firms, assessments and users are picked by autocomplete or raw id: the register holds 10k+
firms, and a select of all of them would be unusable.
"""

from __future__ import annotations

from typing import Any, cast

from auditlog.mixins import AuditlogHistoryAdminMixin
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from programmes import services
from programmes.models import (
    AssessorScope,
    Evidence,
    Programme,
    Provider,
    ProviderMember,
    ProviderRating,
    RetrofitProject,
    StageChange,
    Verification,
    VerifiedAnswer,
)
from programmes.services import ProgrammeRuleError

Stage = RetrofitProject.Stage


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record: staff may look, never add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """An inline list of records: shown, never added to, changed or deleted here."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Providers --------------------------------------------------------------------------------


class ProviderMemberInline(admin.TabularInline):
    model = ProviderMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Provider)
class ProviderAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "uscc",
        "kind",
        "region",
        "contact_person",
        "contact_phone",
        "project_count",
    ]
    list_filter = ["kind", ("region", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "uscc", "contact_person", "contact_email", "products"]
    autocomplete_fields = ["region", "regions_served"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ProviderMemberInline]
    list_select_related = ["region"]
    show_auditlog_history_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        """Providers with the number of their projects."""
        return super().get_queryset(request).annotate(_projects=Count("projects"))

    @admin.display(description=gettext_lazy("projects"), ordering="_projects")
    def project_count(self, obj: Provider) -> int:
        """How many retrofit projects the provider runs."""
        return getattr(obj, "_projects", 0)

    def save_model(self, request: HttpRequest, obj: Provider, form: Any, change: bool) -> None:
        """Normalise the credit code as the register does, then save."""
        obj.uscc = obj.uscc.strip().upper()
        super().save_model(request, obj, form, change)


@admin.register(ProviderMember)
class ProviderMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "provider"]
    list_filter = [("provider", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__email", "provider__name", "provider__uscc"]
    autocomplete_fields = ["user", "provider"]
    list_select_related = ["user", "provider"]


# --- Programmes and assessors -----------------------------------------------------------------


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = [
            "slug",
            "name_zh",
            "name_en",
            "region",
            "framework_version",
            "starts_on",
            "ends_on",
            "target_level",
            "target_firms",
            "target_date",
        ]

    def clean(self) -> dict[str, Any]:
        """Refuse a target level that the programme's framework version does not have."""
        cleaned = super().clean() or {}
        version, level = cleaned.get("framework_version"), cleaned.get("target_level")
        if version is not None and level:
            from assessments.versions import framework_for

            codes = [lv.code for lv in framework_for(version).levels]
            if level not in codes:
                self.add_error(
                    "target_level",
                    _("%(version)s has no level %(level)s; its levels are %(codes)s.")
                    % {"version": version, "level": level, "codes": ", ".join(codes)},
                )
        return cleaned


class AssessorScopeForm(forms.ModelForm):
    class Meta:
        model = AssessorScope
        fields = ["user", "region", "programme", "organisation"]

    def clean(self) -> dict[str, Any]:
        """A scope is a region or a programme, exactly one of them."""
        cleaned = super().clean() or {}
        region, programme = cleaned.get("region"), cleaned.get("programme")
        in_programme = "programme" in self.fields
        self._scope_refused = in_programme and (region is None) == (programme is None)
        if self._scope_refused:
            raise forms.ValidationError(
                _("Give either a region or a programme for the assessor, not both and not none.")
            )
        return cleaned

    def _get_validation_exclusions(self) -> set[str]:
        # The model's check constraint says the same in database terms: once the sentence
        # above is shown, leave the constraint's own message out.
        excluded = set(super()._get_validation_exclusions())  # type: ignore[misc]
        if getattr(self, "_scope_refused", False):
            excluded |= {"region", "programme"}
        return excluded


class AssessorScopeInline(admin.TabularInline):
    model = AssessorScope
    form = AssessorScopeForm
    extra = 0
    fields = ["user", "organisation"]
    autocomplete_fields = ["user"]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    form = ProgrammeForm
    list_display = [
        "name_zh",
        "name_en",
        "slug",
        "region",
        "framework_version",
        "starts_on",
        "ends_on",
        "target",
        "project_count",
    ]
    list_filter = [("region", admin.RelatedOnlyFieldListFilter), "framework_version"]
    search_fields = ["slug", "name_zh", "name_en", "region__name_zh"]
    autocomplete_fields = ["region", "framework_version"]
    readonly_fields = ["created_at"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [AssessorScopeInline]
    list_select_related = ["region", "framework_version__framework"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Programme]:
        """Programmes with the number of their projects."""
        return super().get_queryset(request).annotate(_projects=Count("projects"))

    @admin.display(description=gettext_lazy("projects"), ordering="_projects")
    def project_count(self, obj: Programme) -> int:
        """How many retrofit projects the programme has."""
        return getattr(obj, "_projects", 0)

    @admin.display(description=gettext_lazy("target"))
    def target(self, obj: Programme) -> str:
        """The target in words: N firms at level X or above by a date."""
        if obj.target_date:
            return _("%(n)s firms at %(level)s or above by %(date)s") % {
                "n": obj.target_firms,
                "level": obj.target_level,
                "date": obj.target_date,
            }
        return _("%(n)s firms at %(level)s or above") % {
            "n": obj.target_firms,
            "level": obj.target_level,
        }


@admin.register(AssessorScope)
class AssessorScopeAdmin(admin.ModelAdmin):
    form = AssessorScopeForm
    list_display = ["user", "region", "programme", "organisation"]
    list_filter = [
        ("region", admin.RelatedOnlyFieldListFilter),
        ("programme", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["user__username", "user__email", "organisation", "region__name_zh"]
    autocomplete_fields = ["user", "region", "programme"]
    list_select_related = ["user", "region", "programme"]


# --- Retrofit projects ------------------------------------------------------------------------

# The project's details that `project_update` changes; baseline and acceptance go through
# `project_link`, the stage through `project_move`.
DETAILS = (
    "title",
    "targeted_questions",
    "starts_on",
    "ends_on",
    "budget_10k_cny",
    "subsidy_10k_cny",
    "provider",
)


class _DryRun(Exception):
    """Raised inside a savepoint to undo a trial run of the services."""


class ProjectForm(forms.ModelForm):
    """A project's form; on save the services write, and what they refuse is a form error.

    `move_to` lists only the stages the project may move to now; the move is recorded with the
    staff member as its actor and `move_note` as its note.
    """

    move_to = forms.ChoiceField(
        label=gettext_lazy("move to stage"),
        required=False,
        help_text=gettext_lazy(
            "Recorded as a stage change with you as its author; a stage never goes back."
        ),
    )
    move_note = forms.CharField(
        label=gettext_lazy("note on the move"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = RetrofitProject
        fields = [
            "programme",
            "firm",
            "provider",
            "title",
            "targeted_questions",
            "starts_on",
            "ends_on",
            "budget_10k_cny",
            "subsidy_10k_cny",
            "baseline",
            "acceptance",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project = self.instance if self.instance.pk else None
        stages = services.next_stages(project) if project is not None else []
        move_to = self.fields["move_to"]
        assert isinstance(move_to, forms.ChoiceField)
        move_to.choices = [("", "—")] + [(stage, Stage(stage).label) for stage in stages]
        if project is not None and not stages:
            self.fields["move_to"].disabled = True
            self.fields["move_note"].disabled = True

    def clean_targeted_questions(self) -> list[str]:
        """A list of question codes (the services check that the framework has them)."""
        value = self.cleaned_data.get("targeted_questions") or []
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise forms.ValidationError(
                _('Give the targeted questions as a list of question codes, e.g. ["PE1", "PE2"].')
            )
        return value

    def clean(self) -> dict[str, Any]:
        """Run the services on the input in a savepoint that is rolled back: what they
        refuse becomes the error of its field, in the user's language."""
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                project_apply(self.instance if self.instance.pk else None, self, user=None)
                raise _DryRun
        except _DryRun:
            pass
        except ProgrammeRuleError as exc:
            field = exc.field if exc.field in self.fields else None
            self.add_error(field, exc.message)
        return cleaned

    def _post_clean(self) -> None:
        # The instance is written by the services (ProjectAdmin.save_model); the model's own
        # validation would read the unsaved stage and checks the same constraints.
        pass


def project_apply(
    project: RetrofitProject | None, form: forms.ModelForm, *, user: Any
) -> RetrofitProject:
    """Write the admin form's input through the services; returns the project as saved."""
    data = form.cleaned_data
    changed = set(form.changed_data)
    if project is None:
        project = services.project_create(
            data["programme"],
            firm=data["firm"],
            provider=data["provider"],
            user=user,
            baseline=data.get("baseline"),
            title=data.get("title") or "",
            targeted_questions=data.get("targeted_questions") or [],
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            budget_10k_cny=data.get("budget_10k_cny"),
            subsidy_10k_cny=data.get("subsidy_10k_cny"),
        )
        if data.get("acceptance") is not None:
            services.project_link(project, user=user, acceptance=data["acceptance"])
    else:
        details = {name: data[name] for name in DETAILS if name in changed and name in data}
        if "title" in details:
            details["title"] = details["title"] or ""
        if details:
            services.project_update(project, user=user, **details)
        links = {
            name: data[name]
            for name in ("baseline", "acceptance")
            if name in changed and data.get(name) is not None
        }
        if links:
            services.project_link(project, user=user, **links)
    if data.get("move_to"):
        services.project_move(project, data["move_to"], user=user, note=data.get("move_note", ""))
    return RetrofitProject.objects.get(pk=project.pk)


class StageChangeInline(ReadOnlyInline):
    model = StageChange
    fields = ["from_stage", "to_stage", "changed_by", "changed_at", "note"]
    readonly_fields = list(fields)  # type: ignore[arg-type]
    show_change_link = False


class _MoveLabel:
    """An action's label, translated when the list is shown, not at import."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def __str__(self) -> str:
        return _("Move the selected projects to: %(stage)s") % {"stage": self.stage.label}

    def __mod__(self, other: Any) -> str:
        # The admin formats every action label with the model's names: nothing to fill here.
        return str(self)


def _move_action(stage: Stage) -> Any:
    """The list action that moves the selected projects to `stage` (through the service)."""

    def action(
        modeladmin: ProjectAdmin, request: HttpRequest, queryset: QuerySet[RetrofitProject]
    ) -> None:
        modeladmin.move_selected(request, queryset, stage)

    action.__name__ = f"move_to_{stage.value}"
    return admin.action(description=cast(str, _MoveLabel(stage)))(action)


@admin.register(RetrofitProject)
class ProjectAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    form = ProjectForm
    list_display = [
        "pk",
        "firm_name",
        "provider_name",
        "stage",
        "baseline_level",
        "acceptance_level",
        "stage_changed_at",
    ]
    list_display_links = ["pk", "firm_name"]
    list_filter = [
        "stage",
        ("programme", admin.RelatedOnlyFieldListFilter),
        ("provider", admin.RelatedOnlyFieldListFilter),
        ("programme__region", admin.RelatedOnlyFieldListFilter),
        ("provider__kind"),
    ]
    search_fields = ["firm__name", "firm__uscc", "provider__name", "provider__uscc", "title"]
    autocomplete_fields = ["programme", "firm", "provider"]
    raw_id_fields = ["baseline", "acceptance"]
    readonly_fields = ["stage", "created_at", "stage_changed_at", "accepted_at"]
    list_select_related = ["firm", "provider", "programme", "baseline", "acceptance"]
    inlines = [StageChangeInline]
    show_full_result_count = False
    show_auditlog_history_link = True
    actions = [_move_action(stage) for stage in (*services.STAGE_ORDER[1:], Stage.ABANDONED)]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        main = [
            "programme",
            "firm",
            "provider",
            "title",
            "targeted_questions",
            ("starts_on", "ends_on"),
            ("budget_10k_cny", "subsidy_10k_cny"),
            "baseline",
            "acceptance",
        ]
        stage = ["stage", "move_to", "move_note", "stage_changed_at", "accepted_at"]
        if obj is None:
            return [(None, {"fields": main})]
        return [
            (None, {"fields": main}),
            (_("Stage"), {"fields": stage}),
            (None, {"fields": ["created_at"]}),
        ]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        """The stage changes of an existing project (a new one has none yet)."""
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """The programme and firm are fixed once created; the baseline once the project is
        under way, the acceptance once it is closed (the services refuse those changes)."""
        fields = list(self.readonly_fields)
        if obj is not None:
            fields += ["programme", "firm"]
            if obj.stage != Stage.DIAGNOSED:
                fields.append("baseline")
            if obj.is_closed:
                fields.append("acceptance")
        return fields

    @admin.display(description=gettext_lazy("firm"), ordering="firm__name")
    def firm_name(self, obj: RetrofitProject) -> str:
        return obj.firm.name

    @admin.display(description=gettext_lazy("provider"), ordering="provider__name")
    def provider_name(self, obj: RetrofitProject) -> str:
        return obj.provider.name

    @admin.display(description=gettext_lazy("baseline level"))
    def baseline_level(self, obj: RetrofitProject) -> str:
        return obj.baseline.level if obj.baseline else "—"

    @admin.display(description=gettext_lazy("acceptance level"))
    def acceptance_level(self, obj: RetrofitProject) -> str:
        return obj.acceptance.level if obj.acceptance else "—"

    def save_model(
        self, request: HttpRequest, obj: RetrofitProject, form: Any, change: bool
    ) -> None:
        """Write through the services (the form ran them once already, rolled back)."""
        user = request.user if request.user.is_authenticated else None
        saved = project_apply(obj if change else None, form, user=user)
        # The admin goes on with `obj` (inlines, messages, redirect): make it the saved row.
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db
        for field in RetrofitProject._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def move_selected(
        self, request: HttpRequest, queryset: QuerySet[RetrofitProject], stage: Stage
    ) -> None:
        """Move each selected project through `project_move`; refusals are named per project."""
        moved = 0
        for project in queryset.select_related("firm"):
            try:
                services.project_move(project, stage, user=request.user)  # type: ignore[arg-type]
            except ProgrammeRuleError as exc:
                self.message_user(
                    request,
                    _("%(firm)s: %(message)s")
                    % {"firm": project.firm.name, "message": exc.message},
                    messages.ERROR,
                )
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                ngettext(
                    "%(n)d project moved to %(stage)s.",
                    "%(n)d projects moved to %(stage)s.",
                    moved,
                )
                % {"n": moved, "stage": stage.label},
                messages.SUCCESS,
            )


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    """Stage changes are append-only: written by `project_move`, never edited."""

    list_display = ["project", "from_stage", "to_stage", "changed_by", "changed_at"]
    list_filter = ["to_stage", "from_stage", ("changed_at", admin.DateFieldListFilter)]
    search_fields = ["project__firm__name", "project__firm__uscc", "changed_by__username", "note"]
    list_select_related = ["project", "changed_by"]
    date_hierarchy = "changed_at"
    show_full_result_count = False


@admin.register(ProviderRating)
class ProviderRatingAdmin(AuditlogHistoryAdminMixin, ReadOnlyAdmin):
    """A firm's rating of its provider, given once on acceptance: it is the firm's word and
    is never edited here (any change made elsewhere lands in the audit trail)."""

    list_display = ["project", "provider", "score", "rated_by", "rated_at"]
    list_filter = ["score", ("project__provider", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["project__firm__name", "project__provider__name", "comment"]
    list_select_related = ["project__provider", "project__firm", "rated_by"]
    show_auditlog_history_link = True

    @admin.display(description=gettext_lazy("provider"))
    def provider(self, obj: ProviderRating) -> str:
        return obj.project.provider.name


# --- Verifications ----------------------------------------------------------------------------


class VerifiedAnswerInline(ReadOnlyInline):
    model = VerifiedAnswer
    ordering = ["-changed", "question_code"]  # the changes, with their reasons, first
    fields = ["question_code", "reported_value", "value", "changed", "reason", "updated_by"]
    readonly_fields = list(fields)  # type: ignore[arg-type]


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ["question_code", "original_name", "content_type", "size", "uploaded_by"]
    readonly_fields = list(fields)  # type: ignore[arg-type]


@admin.register(Verification)
class VerificationAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    """Verifications are started and recorded on the verification pages. Here staff may
    reassign an open one to another assessor or fix its visit date; a completed one is
    locked, with its answers and result."""

    list_display = [
        "pk",
        "firm",
        "assessor",
        "status",
        "reported_level",
        "level",
        "visited_on",
        "completed_at",
    ]
    list_display_links = ["pk", "firm"]
    list_filter = [
        "status",
        ("assessor", admin.RelatedOnlyFieldListFilter),
        "assessment__framework_version",
        ("completed_at", admin.DateFieldListFilter),
    ]
    search_fields = [
        "assessment__firm__name",
        "assessment__firm__uscc",
        "assessor__username",
    ]
    autocomplete_fields = ["assessor"]
    readonly_fields = [
        "assessment",
        "status",
        "started_at",
        "completed_at",
        "total",
        "level",
        "level_rank",
        "basic",
        "advanced",
    ]
    # The stored result JSON is left out: its figures are the fields above.
    fields = ["assessment", "assessor", "visited_on", *readonly_fields[1:]]
    list_select_related = ["assessment__firm", "assessor"]
    inlines = [VerifiedAnswerInline, EvidenceInline]
    show_full_result_count = False
    show_auditlog_history_link = True

    @admin.display(description=gettext_lazy("firm"), ordering="assessment__firm__name")
    def firm(self, obj: Verification) -> str:
        return obj.assessment.firm.name

    @admin.display(description=gettext_lazy("self-reported level"))
    def reported_level(self, obj: Verification) -> str:
        return obj.assessment.level or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        """A verification starts from the assessor's work list."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A completed verification is locked."""
        if obj is not None and obj.is_completed:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A completed verification locks its assessment: it is never deleted."""
        if obj is not None and obj.is_completed:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Verification]) -> None:
        """Bulk delete from the list: open verifications only."""
        locked = queryset.filter(status=Verification.Status.COMPLETED)
        if locked.exists():
            self.message_user(
                request,
                _("Completed verifications are locked and were not deleted: %(n)d.")
                % {"n": locked.count()},
                messages.ERROR,
            )
        for verification in queryset.exclude(status=Verification.Status.COMPLETED):
            verification.delete()


@admin.register(VerifiedAnswer)
class VerifiedAnswerAdmin(AuditlogHistoryAdminMixin, ReadOnlyAdmin):
    """The assessor's findings, question by question (recorded by the verification pages)."""

    list_display = ["verification", "question_code", "changed", "updated_by", "updated_at"]
    list_filter = ["changed", "verification__status"]
    search_fields = [
        "question_code",
        "reason",
        "verification__assessment__firm__name",
        "verification__assessment__firm__uscc",
    ]
    list_select_related = ["verification__assessment__firm", "updated_by"]
    show_full_result_count = False
    show_auditlog_history_link = True


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    """Evidence files, listed without links: they are private and served only through the
    permission-checked evidence view."""

    list_display = [
        "original_name",
        "question_code",
        "verification",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = ["content_type", ("uploaded_at", admin.DateFieldListFilter)]
    search_fields = [
        "original_name",
        "question_code",
        "verification__assessment__firm__name",
        "verification__assessment__firm__uscc",
    ]
    fields = [
        "verification",
        "question_code",
        "original_name",
        "stored_as",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
    ]
    readonly_fields = list(fields)  # type: ignore[arg-type]
    list_select_related = ["verification__assessment__firm", "uploaded_by"]

    @admin.display(description=gettext_lazy("stored as"))
    def stored_as(self, obj: Evidence) -> str:
        """The file's private path (not a link: media is never served publicly)."""
        return obj.file.name or ""
