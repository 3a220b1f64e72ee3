"""Officials' and providers' pages of the programme: programmes, projects, providers."""

from django.urls import path  # noqa: F401

app_name = "programmes"

urlpatterns: list = []
