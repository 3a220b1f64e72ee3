"""The assessors' pages: the work list, the verification of one assessment, evidence."""

from django.urls import path  # noqa: F401

app_name = "verification"

urlpatterns: list = []
