"""Routes of the assessments app: framework API first; pages and other APIs are added below."""

from django.urls import path

from assessments import api, views

app_name = "assessments"

urlpatterns = [
    path("api/v1/frameworks/", api.FrameworkListApi.as_view(), name="api-framework-list"),
    path(
        "api/v1/frameworks/<slug:slug>/<str:version>/",
        api.FrameworkDetailApi.as_view(),
        name="api-framework-detail",
    ),
    path(
        "api/v1/frameworks/<slug:slug>/<str:version>/score",
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
    path("api/v1/assessments/", api.AssessmentListApi.as_view(), name="api-assessment-list"),
    path(
        "api/v1/assessments/<id:pk>/",
        api.AssessmentDetailApi.as_view(),
        name="api-assessment-detail",
    ),
    path(
        "api/v1/assessments/<id:pk>/answers/<str:code>/",
        api.AssessmentAnswerApi.as_view(),
        name="api-assessment-answer",
    ),
]

# API (issue 12): rounds and invitations for officials; drafts, answers, submission and
# results for firms. Every id in a path is an <id:…> (gradient.api.IdConverter).
urlpatterns += [
    path("api/v1/rounds/", api.RoundListApi.as_view(), name="api-round-list"),
    path("api/v1/rounds/<id:pk>/", api.RoundDetailApi.as_view(), name="api-round-detail"),
    path("api/v1/rounds/<id:pk>/close/", api.RoundCloseApi.as_view(), name="api-round-close"),
    path(
        "api/v1/rounds/<id:pk>/invitations/",
        api.RoundInvitationsApi.as_view(),
        name="api-round-invitations",
    ),
    path(
        "api/v1/rounds/<id:pk>/invitations/remind/",
        api.RoundRemindApi.as_view(),
        name="api-round-remind",
    ),
    path("api/v1/drafts/", api.AssessmentStartApi.as_view(), name="api-assessment-start"),
    path(
        "api/v1/assessments/<id:pk>/answers/",
        api.AssessmentAnswersApi.as_view(),
        name="api-assessment-answers",
    ),
    path(
        "api/v1/assessments/<id:pk>/submit/",
        api.AssessmentSubmitApi.as_view(),
        name="api-assessment-submit",
    ),
    path(
        "api/v1/assessments/<id:pk>/result/",
        api.AssessmentResultApi.as_view(),
        name="api-assessment-result",
    ),
]
