from typing import Any

from django.contrib import admin

from reports.models import ReportJob, Target


@admin.register(ReportJob)
class ReportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "round",
        "region",
        "language",
        "shareable",
        "status",
        "progress",
        "created_at",
        "finished_at",
        "expires_at",
    ]
    list_filter = ["kind", "status", "language", "shareable"]
    list_select_related = ["round", "region"]
    # The subject is chosen by the request service (with its scope checks), never by hand.
    readonly_fields = [
        "round",
        "cluster",
        "region",
        "fingerprint",
        "timings",
        "started_at",
        "finished_at",
        "created_at",
    ]
    search_fields = ["id", "fingerprint"]


_TARGET_FIELDS = [
    "cluster",
    "region",
    "framework",
    "framework_version",
    "level",
    "firms",
    "deadline",
    "industry",
    "created_by",
    "created_at",
]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["id", *_TARGET_FIELDS]
    list_filter = ["framework", "deadline"]
    list_select_related = ["cluster", "region", "framework", "framework_version", "created_by"]
    search_fields = ["cluster__slug", "cluster__name_zh", "region__name_zh", "level"]
    # Officials set targets on the dashboard, where the service checks them; the admin lists
    # them and may remove one, but does not bypass those checks by editing.
    readonly_fields = _TARGET_FIELDS

    def has_add_permission(self, request: Any) -> bool:
        return False
