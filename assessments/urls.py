"""Routes of the assessments app: framework API first; pages and other APIs are added below."""

from django.urls import path

from assessments import api, views

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

# Pages: rounds and invitations for officials; questionnaire, review and result for firms.
urlpatterns += [
    path("rounds/", views.round_list, name="round_list"),
    path("rounds/new/", views.round_create, name="round_create"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path(
        "rounds/<int:pk>/invitations.xlsx",
        views.round_invitations_xlsx,
        name="round_invitations_xlsx",
    ),
    path(
        "rounds/<int:round_pk>/firms/<int:firm_pk>/start/",
        views.round_start,
        name="round_start",
    ),
    path("invite/<str:token>/", views.invitation, name="invitation"),
    path("assessments/<int:pk>/", views.questionnaire, name="questionnaire"),
    path(
        "assessments/<int:pk>/part/<str:dimension>/",
        views.questionnaire,
        name="questionnaire_dimension",
    ),
    path("assessments/<int:pk>/answers/<str:code>/", views.answer, name="answer"),
    path("assessments/<int:pk>/review/", views.review, name="review"),
    path("assessments/<int:pk>/result/", views.result, name="result"),
    path("api/assessments/", api.AssessmentListApi.as_view(), name="api-assessment-list"),
    path(
        "api/assessments/<int:pk>/",
        api.AssessmentDetailApi.as_view(),
        name="api-assessment-detail",
    ),
    path(
        "api/assessments/<int:pk>/answers/<str:code>/",
        api.AssessmentAnswerApi.as_view(),
        name="api-assessment-answer",
    ),
]
