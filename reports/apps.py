from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = _("reports")

    def ready(self) -> None:
        # Celery's autodiscovery imports reports.tasks only: register the batch tasks too.
        from reports import batch_tasks  # noqa: F401
