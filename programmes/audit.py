"""What the audit trail (django-auditlog) records for the programme.

Every change to a verified answer, a verification's outcome, a project's stage and a provider
rating is logged with its actor and address (AuditlogMiddleware sets them per request; the
services pass the actor explicitly when no request is around). Staff read the trail in the
admin under "Log entries".
"""

from __future__ import annotations

from auditlog.registry import auditlog


def register() -> None:
    """Register the programme's models with the audit trail (idempotent)."""
    from programmes import models

    tracked = {
        models.Provider: {},
        models.RetrofitProject: {},
        models.StageChange: {},
        models.ProviderRating: {},
        models.Verification: {"exclude_fields": ["result"]},
        models.VerifiedAnswer: {},
        models.Evidence: {},
        models.AssessorScope: {},
        models.ProviderMember: {},
    }
    for model, options in tracked.items():
        if not auditlog.contains(model):
            auditlog.register(model, **options)
