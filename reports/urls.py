from django.urls import include, path, re_path

from reports import api, downloads, firm, firm_file, views, views_batch, workspace

# Pages of the officials' workspace, reversed as "reports:<name>".
workspace_patterns = [
    path("firms/<int:pk>/", firm_file.firm_file, name="firm_file"),
]

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
    # Issue 13: the programme report, requested from the programme page.
    path(
        "reports/programmes/<int:programme_id>/request/",
        views.report_programme_request,
        name="report-programme-request",
    ),
    path(
        "reports/regions/<int:region_id>/targets/",
        views.region_target_create,
        name="report-region-target-create",
    ),
    path(
        "reports/regions/<int:region_id>/targets/<int:target_id>/remove/",
        views.region_target_remove,
        name="report-region-target-remove",
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
    # The workspace figures (issue 12): read-only, scoped like the pages.
    path(
        "api/v1/clusters/<slug:slug>/dashboard/",
        api.ClusterDashboardApi.as_view(),
        name="api-cluster-dashboard",
    ),
    path(
        "api/v1/regions/<id:region_id>/comparison/",
        api.RegionComparisonApi.as_view(),
        name="api-region-comparison",
    ),
    # The officials' workspace (issue 10) names its pages "reports:<name>", in this namespace.
    path("reports/", include((workspace_patterns, "reports"))),
]

# The officials' workspace (reports/workspace.py).
urlpatterns += [
    path(
        "reports/clusters/<slug:slug>/dashboard/",
        workspace.cluster_dashboard,
        name="report-dashboard",
    ),
    path(
        "reports/clusters/<slug:slug>/targets/",
        workspace.target_create,
        name="report-target-create",
    ),
    path(
        "reports/clusters/<slug:slug>/targets/<int:target_id>/remove/",
        workspace.target_remove,
        name="report-target-remove",
    ),
]

# Issue 14, audit: who downloaded the cluster's reports (reports/downloads.py).
urlpatterns += [
    path(
        "reports/clusters/<slug:slug>/downloads/",
        downloads.cluster_downloads_view,
        name="report-downloads",
    ),
]

# Issue 14, report batches: every cluster report of a region's round, zipped.
urlpatterns += [
    path("reports/batches/request/", views_batch.batch_request, name="report-batch-request"),
    path("reports/batches/<int:batch_id>/", views_batch.batch_page, name="report-batch"),
    path(
        "reports/batches/<int:batch_id>/progress/",
        views_batch.batch_progress,
        name="report-batch-progress",
    ),
    path(
        "reports/batches/<int:batch_id>/download.zip",
        views_batch.batch_download,
        name="report-batch-download",
    ),
]
