"""App configs that give third-party apps a translated name in the admin (and the audit
trail its registrations)."""

from __future__ import annotations

from auditlog.apps import AuditlogConfig as AuditlogAppConfig
from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    """django-axes as "Login protection" (axes ships no Chinese catalog, and calls itself
    "Axes")."""

    verbose_name = _("Login protection")


class AuditlogConfig(AuditlogAppConfig):
    """django-auditlog as "Audit trail", with the project's registrations (gradient/audit.py)
    and its receivers of the log-in events."""

    verbose_name = _("Audit trail")

    def ready(self) -> None:
        super().ready()
        from gradient import audit, audit_admin

        audit.register()
        audit.connect_login_events()
        audit_admin.install()
