"""Routes of the assessments app: framework API first; pages and other APIs are added below."""

from django.urls import path

from assessments import api

app_name = "assessments"

urlpatterns = [
    path("api/frameworks/", api.FrameworkListApi.as_view(), name="api-framework-list"),
    path(
        "api/frameworks/<slug:slug>/<str:version>/",
        api.FrameworkDetailApi.as_view(),
        name="api-framework-detail",
    ),
    path(
        "api/frameworks/<slug:slug>/<str:version>/score",
        api.FrameworkScoreApi.as_view(),
        name="api-framework-score",
    ),
]
