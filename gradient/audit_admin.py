"""The audit trail in the admin: auditlog's LogEntry list, with the event, the address and
filters by event, model, action, actor and date, in both languages.

auditlog's own admin shows neither the address nor our events, filters by the raw model
name, and writes "system" and "N changes" in English; this one replaces it
(`AuditlogConfig.ready`). Read-only, as auditlog's: nobody edits or deletes the trail here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditlog.admin import LogEntryAdmin as AuditlogEntryAdmin
from auditlog.filters import CIDFilter
from auditlog.models import LogEntry
from auditlog.render import get_field_verbose_name
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from gradient import audit

# The longest actor name the filter accepts (the username field's length).
ACTOR_LIMIT = 150


class EventFilter(admin.SimpleListFilter):
    """Entries of one event (log-in, download, submission …)."""

    title = _("event")
    parameter_name = "event"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, str(label)) for code, label in audit.EVENTS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[LogEntry]) -> QuerySet[LogEntry]:
        if self.value() in audit.EVENTS:
            return queryset.filter(additional_data__event=self.value())
        return queryset


class ModelFilter(admin.SimpleListFilter):
    """Entries about one model, named as the admin names it, in the user's language."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        ids = LogEntry.objects.values_list("content_type_id", flat=True).distinct()
        choices = []
        for content_type in ContentType.objects.filter(pk__in=ids):
            model = content_type.model_class()
            name = capfirst(model._meta.verbose_name_plural) if model else content_type.model
            choices.append((str(content_type.pk), str(name)))
        return sorted(choices, key=lambda choice: choice[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[LogEntry]) -> QuerySet[LogEntry]:
        value = self.value()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(content_type_id=int(value))
        return queryset.none()  # a type that cannot exist matches nothing


class ActorFilter(admin.SimpleListFilter):
    """Entries of one actor, by username typed in a box: a province has too many users for a
    list of links. "-" picks the entries made outside a request (the demo data, commands)."""

    title = _("actor")
    parameter_name = "actor"
    template = "admin/audit_actor_filter.html"
    SYSTEM = "-"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: ChangeList) -> Iterator[Any]:  # its own template's keys
        # The box keeps the other filters: they go along as hidden fields.
        others = [
            (key, value)
            for key, value in changelist.get_filters_params().items()
            if key != self.parameter_name
        ]
        yield {
            "value": (self.value() or "")[:ACTOR_LIMIT],
            "others": [(key, v) for key, values in others for v in _listed(values)],
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
            "system": changelist.get_query_string({self.parameter_name: self.SYSTEM}),
            "is_system": self.value() == self.SYSTEM,
        }

    def queryset(self, request: HttpRequest, queryset: QuerySet[LogEntry]) -> QuerySet[LogEntry]:
        value = (self.value() or "").strip()[:ACTOR_LIMIT]
        if value == self.SYSTEM:
            return queryset.filter(actor__isnull=True)
        if value:
            return queryset.filter(actor__username=value)
        return queryset


def _listed(values: Any) -> list[Any]:
    return list(values) if isinstance(values, list | tuple) else [values]


class AuditEntryAdmin(AuditlogEntryAdmin):
    list_display = [
        "created",
        "event",
        "actor_name",
        "remote_addr",
        "resource_url",
        "action",
        "changes_short",
    ]
    list_filter = [EventFilter, ModelFilter, "action", ActorFilter, "timestamp", CIDFilter]
    search_fields = ["object_repr", "actor__username", "remote_addr"]
    readonly_fields = [
        "created",
        "event",
        "resource_url",
        "action",
        "actor_name",
        "remote_addr",
        "details",
        "msg",
        "cid",
    ]
    fieldsets = [
        (None, {"fields": ["created", "event", "actor_name", "remote_addr", "resource_url"]}),
        (_("What was done"), {"fields": ["action", "details", "msg", "cid"]}),
    ]
    list_per_page = 50
    # The admin's count of a large trail would scan it all on every page.
    show_full_result_count = False

    @admin.display(description=_("event"))
    def event(self, obj: LogEntry) -> str:
        return audit.event_label(obj) or "—"

    @admin.display(description=_("actor"))
    def actor_name(self, obj: LogEntry) -> str:
        if obj.actor is not None:
            return obj.actor.get_username()
        return str(_("the system (no signed-in user)"))

    @admin.display(description=_("details"))
    def details(self, obj: LogEntry) -> str:
        data = obj.additional_data if isinstance(obj.additional_data, dict) else {}
        rows = [(key, value) for key, value in data.items() if key != "event"]
        if not rows:
            return "—"
        return format_html_join("", "<div><code>{}</code>: {}</div>", rows)

    @admin.display(description=_("changes"))
    def changes_short(self, obj: LogEntry) -> str:
        if obj.action in (LogEntry.Action.DELETE, LogEntry.Action.ACCESS):
            return ""
        changes = obj.changes_dict
        if not changes:
            return ""
        fields = ", ".join(str(get_field_verbose_name(obj, name)) for name in changes)
        if len(fields) > 75:
            fields = fields[: fields.rfind(" ", 0, 75)] + " …"
        return ngettext(
            "%(count)d change: %(fields)s", "%(count)d changes: %(fields)s", len(changes)
        ) % {"count": len(changes), "fields": fields}


def install() -> None:
    """Replace auditlog's LogEntry admin with this one (call once the admin has loaded)."""
    if admin.site.is_registered(LogEntry):
        admin.site.unregister(LogEntry)
    admin.site.register(LogEntry, AuditEntryAdmin)
