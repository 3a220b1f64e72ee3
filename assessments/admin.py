"""Django admin for the assessments app.

Framework versions come from files (`manage.py load_frameworks`), so the admin never edits a
definition: it lists and searches versions, shows a read-only summary of one, publishes
drafts, and deletes drafts. A published version can be neither changed nor deleted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import wording
from assessments.framework import Framework as ParsedFramework
from assessments.framework import FrameworkError, Question, text
from assessments.models import (
    Answer,
    Assessment,
    Framework,
    FrameworkVersion,
    Invitation,
    Round,
    active_language,
)
from assessments.services import invitation_token
from assessments.versions import framework_for, framework_version_publish


def _exact(value: Decimal | None) -> str:
    """A value from the file exactly as it is written there (no rounding), "—" for none."""
    return wording.number(value, None)


def _condition(condition: dict, fw: ParsedFramework, language: str) -> str:
    """A condition in the admin's notation (codes and ≥), for checking against the file."""
    return wording.describe_condition(condition, fw, language, notation=wording.SYMBOLS)


def _question_row(q: Question, fw: ParsedFramework, language: str) -> dict[str, Any]:
    details: list[str] = []
    if q.type in ("single", "multi"):
        for o in q.options:
            extra = _(" (exclusive)") if o.exclusive else ""
            details.append(f"{o.code}: {text(o.text, language)} — {_exact(o.points)}{extra}")
    elif q.type == "number":
        lower: Decimal | None = None
        for band in q.bands:
            if band.upto is None:
                span = _("above %(x)s") % {"x": _exact(lower)} if lower is not None else _("any")
            else:
                span = _("up to %(x)s") % {"x": _exact(band.upto)}
            details.append(f"{span} → {_exact(band.points)}")
            lower = band.upto
        if q.min is not None or q.max is not None:
            details.append(
                _("allowed range: %(lo)s to %(hi)s") % {"lo": _exact(q.min), "hi": _exact(q.max)}
            )
        if q.integer:
            details.append(_("whole numbers only"))
    elif q.type == "level":
        details = [f"{c.value}: {text(c.text, language)}" for c in q.levels]
    elif q.type == "text":
        details = [_("at most %(n)s characters") % {"n": q.max_length}]
    return {
        "code": q.code,
        "type": q.type,
        "text": text(q.text, language),
        "points": _exact(q.points) if q.points is not None else "",
        "required": q.required,
        "tags": ", ".join(q.tags),
        "show_if": _condition(q.show_if, fw, language) if q.show_if else "",
        "details": details,
        "unit": q.unit or "",
    }


def framework_summary(fw: ParsedFramework, language: str) -> dict[str, Any]:
    """The template context that describes a whole framework version."""
    return {
        "title": text(fw.title, language),
        "description": text(fw.description, language) if fw.description else "",
        "source": text(fw.source, language) if fw.source else "",
        "languages": ", ".join(fw.languages),
        "bands": fw.bands,
        "levels": [
            {
                "code": level.code,
                "title": text(level.title, language),
                "description": text(level.description, language) if level.description else "",
                "gates": [_condition(c, fw, language) for c in level.when],
            }
            for level in fw.levels
        ],
        "dimensions": [
            {
                "code": d.code,
                "title": text(d.title, language),
                "weight": _exact(d.weight),
                "questions": [_question_row(q, fw, language) for q in d.questions],
            }
            for d in fw.dimensions
        ],
    }


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["slug", "display_title", "version_count", "created_at"]
    search_fields = ["slug", "title"]
    readonly_fields = ["slug", "title", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Framework]:
        """Frameworks with the number of their versions."""
        return super().get_queryset(request).annotate(_versions=Count("versions"))

    @admin.display(description=gettext_lazy("title"))
    def display_title(self, obj: Framework) -> str:
        """The title in the current language."""
        return text(obj.title, active_language())

    @admin.display(description=gettext_lazy("versions"), ordering="_versions")
    def version_count(self, obj: Framework) -> int:
        """How many versions the framework has."""
        return getattr(obj, "_versions", 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Frameworks are created by loading files (manage.py load_frameworks)."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Framework | None = None) -> bool:
        """Only a framework without versions may be deleted."""
        if obj is not None and obj.versions.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(FrameworkVersion)
class FrameworkVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "display_title", "status", "published_at", "short_hash"]
    list_filter = ["status", "framework"]
    search_fields = ["framework__slug", "version", "title", "source"]
    list_select_related = ["framework"]
    readonly_fields = [
        "framework",
        "version",
        "display_title",
        "source",
        "status",
        "published_at",
        "content_hash",
        "created_at",
        "summary",
    ]
    fields = readonly_fields
    actions = ["publish"]

    @admin.display(description=gettext_lazy("title"))
    def display_title(self, obj: FrameworkVersion) -> str:
        """The title in the current language."""
        return text(obj.title, active_language())

    @admin.display(description=gettext_lazy("content hash"))
    def short_hash(self, obj: FrameworkVersion) -> str:
        """The first 12 characters of the content hash."""
        return obj.content_hash[:12]

    @admin.display(description=gettext_lazy("content"))
    def summary(self, obj: FrameworkVersion) -> SafeString:
        """Dimensions, questions and levels, rendered read-only."""
        try:
            fw = framework_for(obj)
        except FrameworkError as exc:
            return format_html(
                "<p>{}</p><pre>{}</pre>",
                _("The stored definition is not valid:"),
                "\n".join(exc.problems),
            )
        context = framework_summary(fw, active_language())
        return render_to_string("assessments/admin/framework_summary.html", context)  # type: ignore[return-value]

    @admin.action(description=gettext_lazy("Publish the selected versions"))
    def publish(self, request: HttpRequest, queryset: QuerySet[FrameworkVersion]) -> None:
        """Publish drafts; published ones stay as they are."""
        count = 0
        for version in queryset.filter(status=FrameworkVersion.Status.DRAFT):
            framework_version_publish(version)
            count += 1
        self.message_user(
            request,
            _("%(count)d version(s) published.") % {"count": count},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Versions are created by loading files (manage.py load_frameworks)."""
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: FrameworkVersion | None = None
    ) -> bool:
        """Nothing about a published version can change."""
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: FrameworkVersion | None = None
    ) -> bool:
        """A published version can never be deleted; a draft can."""
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FrameworkVersion]) -> None:
        """Bulk delete from the list: drafts only (each through the model's guard)."""
        for version in queryset:
            if version.is_published:
                self.message_user(
                    request,
                    _("%(version)s is published and cannot be deleted.") % {"version": version},
                    messages.ERROR,
                )
                continue
            version.delete()


# --- Rounds, invitations and assessments (questionnaire part) --------------------------------


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    fields = ("firm", "email", "sent_at", "accepted_at", "accepted_by")
    readonly_fields = ("sent_at", "accepted_at", "accepted_by")
    raw_id_fields = ("firm",)
    show_change_link = False


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    """Rounds with their invitations; tokens are never shown or edited here."""

    list_display = ("name", "cluster", "framework_version", "opens_at", "closes_at")
    list_filter = ("framework_version__framework",)
    search_fields = ("name", "cluster__name_zh", "cluster__name_en", "cluster__slug")
    raw_id_fields = ("cluster", "created_by")
    inlines = [InvitationInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """New invitations made here get an unguessable token, as in the service."""
        for instance in formset.save(commit=False):
            if isinstance(instance, Invitation) and not instance.token:
                instance.token = invitation_token()
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ("question_code", "value", "revision", "updated_at", "updated_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    """Assessments: drafts can be inspected; a submitted one is read-only."""

    list_display = ("firm", "round", "status", "total", "level", "basic", "advanced")
    list_filter = ("status", "basic", "advanced", "framework_version__framework")
    search_fields = ("firm__name", "firm__uscc", "round__name")
    raw_id_fields = ("firm", "round", "framework_version", "submitted_by")
    inlines = [AnswerInline]
    readonly_fields = (
        "result",
        "total",
        "level",
        "level_rank",
        "basic",
        "advanced",
        "submitted_at",
        "submitted_by",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Assessments start from invitations, never from the admin."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A submitted assessment is a record: nothing about it changes."""
        if obj is not None and obj.is_submitted:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_submitted:
            return False
        return super().has_delete_permission(request, obj)
