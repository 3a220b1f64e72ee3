"""App configs that give third-party apps a translated name in the admin."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    """django-axes as "Login protection" (axes ships no Chinese catalog, and calls itself
    "Axes")."""

    verbose_name = _("Login protection")
