from django.urls import path

from reports import api, firm, views

# No app namespace: other parts add routes here too; names carry a "report" prefix instead.
urlpatterns = [
    path("reports/", views.report_index, name="report-index"),
    path("reports/request/", views.report_request, name="report-request"),
    path("reports/jobs/<int:job_id>/", views.report_job, name="report-job"),
    path("reports/jobs/<int:job_id>/progress/", views.report_job_progress, name="report-progress"),
    path(
        "reports/jobs/<int:job_id>/download.<str:fmt>",
        views.report_download,
        name="report-download",
    ),
    path("reports/regions/<int:region_id>/", views.report_region, name="report-region"),
    path("reports/firm-results/<int:pk>.pdf", firm.firm_result_pdf, name="report-firm-result"),
    path("api/reports/", api.ReportRequestApi.as_view(), name="api-report-request"),
    path("api/reports/<int:job_id>/", api.ReportJobDetailApi.as_view(), name="api-report-job"),
]
