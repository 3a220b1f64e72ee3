from django.urls import path, re_path

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
    path("reports/firm-results/<int:pk>.pdf", firm.firm_result_pdf, name="report-firm-result"),
    path("api/v1/reports/", api.ReportRequestApi.as_view(), name="api-report-request"),
    path("api/v1/reports/<id:job_id>/", api.ReportJobDetailApi.as_view(), name="api-report-job"),
    re_path(
        r"^api/v1/reports/(?P<job_id>[0-9]{1,18})/download\.(?P<fmt>pdf|xlsx)$",
        api.ReportFileApi.as_view(),
        name="api-report-file",
    ),
    re_path(
        r"^api/v1/rounds/(?P<pk>[0-9]{1,18})/results\.(?P<fmt>csv|xlsx)$",
        api.RoundResultsExportApi.as_view(),
        name="api-round-results",
    ),
    # Seam for the workspace figures (issue 12, left to the dashboard work): the dashboard
    # figures of a cluster and the regional comparison go here as api/v1/clusters/<slug>/
    # dashboard/ and api/v1/regions/<id>/comparison/, read-only views in reports/api.py that
    # serialise what the dashboard's selectors return.
]
