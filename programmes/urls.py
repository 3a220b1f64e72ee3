"""Officials' and providers' pages of the programme: programmes, projects, providers."""

from django.urls import path

from programmes import views

app_name = "programmes"

urlpatterns = [
    path("", views.programme_list, name="list"),
    path("<int:pk>/", views.programme_detail, name="detail"),
    path("<int:pk>/projects/new/", views.project_create, name="project_create"),
    path("projects/mine/", views.my_projects, name="my_projects"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/stage/", views.project_move, name="project_move"),
    path("projects/<int:pk>/link/", views.project_link, name="project_link"),
    path("projects/<int:pk>/rating/", views.project_rate, name="project_rate"),
    path("providers/", views.provider_list, name="providers"),
    path("providers/new/", views.provider_create, name="provider_create"),
    path("providers/import/", views.provider_import, name="provider_import"),
    path(
        "providers/import/<str:token>/commit/",
        views.provider_import_commit,
        name="provider_import_commit",
    ),
    path("providers/template.xlsx", views.provider_template, name="provider_template"),
    path("providers/<int:pk>/", views.provider_detail, name="provider"),
    path("providers/<int:pk>/edit/", views.provider_edit, name="provider_edit"),
]
