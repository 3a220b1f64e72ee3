from django.contrib import admin

from reports.models import ReportJob


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
