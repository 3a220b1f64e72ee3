"""Routes of the register: official pages, the import flow, downloads and the API."""

from django.urls import path

from clusters import api, views

app_name = "clusters"

urlpatterns = [
    path("clusters/", views.cluster_list, name="list"),
    path("clusters/register-template.xlsx", views.register_template, name="template"),
    path("clusters/<slug:slug>/", views.cluster_detail, name="detail"),
    path("clusters/<slug:slug>/import/", views.cluster_import, name="import"),
    path(
        "clusters/<slug:slug>/import/<int:upload_id>/commit/",
        views.cluster_import_commit,
        name="import_commit",
    ),
    path("clusters/<slug:slug>/firms.xlsx", views.cluster_export, name="export"),
    path("api/v1/clusters/", api.ClusterListApi.as_view(), name="api-cluster-list"),
    path(
        "api/v1/clusters/<slug:slug>/firms/",
        api.ClusterFirmsApi.as_view(),
        name="api-cluster-firms",
    ),
]
