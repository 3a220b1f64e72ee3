"""The assessors' pages: the work list, the verification of one assessment, evidence."""

from django.urls import path

from programmes import verification_views as views

app_name = "verification"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("assessment/<int:pk>/", views.verify, name="verify"),
    path("assessment/<int:pk>/question/<str:code>/", views.finding, name="finding"),
    path(
        "assessment/<int:pk>/question/<str:code>/evidence/",
        views.evidence_add,
        name="evidence_add",
    ),
    path("assessment/<int:pk>/visit/", views.visit, name="visit"),
    path("assessment/<int:pk>/confirm-rest/", views.confirm_rest, name="confirm_rest"),
    path("assessment/<int:pk>/complete/", views.complete, name="complete"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence_remove"),
]
