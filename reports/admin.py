from django.contrib import admin

from reports.models import ReportJob


@admin.register(ReportJob)
class ReportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "language",
        "shareable",
        "status",
        "progress",
        "created_at",
        "finished_at",
        "expires_at",
    ]
    list_filter = ["kind", "status", "language", "shareable"]
    readonly_fields = [
        "fingerprint",
        "timings",
        "params",
        "started_at",
        "finished_at",
        "created_at",
    ]
    search_fields = ["id", "fingerprint"]
