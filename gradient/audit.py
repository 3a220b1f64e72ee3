"""The audit trail: who did what, when and from where (django-auditlog's LogEntry).

Two kinds of entries, in the one LogEntry table that staff read in the admin:

- **Model changes**, written by auditlog itself for the registered models (`register`): users
  (the password masked, never stored), officials' and firm members' scopes, framework
  versions, and the programme's models (programmes/audit.py). A change that is an event of its
  own is tagged with it (`additional_data["event"]`): a framework version's publication, a
  verification's completion.
- **Events that are not one model change**, written by `record`: log-ins, log-outs, failed
  log-ins and lock-outs, submissions, report requests and downloads, register imports and
  invitation mailings. A bulk write (an import, inviting a register) is one summary entry
  with its counts, never one row per firm.

Every entry carries the actor and the client's address: `AuditMiddleware` puts the request's
address (`gradient.authentication.client_ip`, the same address the log-in throttles trust) and
its user on the entries a request writes; the user is read when an entry is written, so an API
request signed in by DRF (token, Basic) has its actor too. An autosave writes no entry (an
answer being typed is not an event worth a row; the submission is).
"""

from __future__ import annotations

import logging
from typing import Any

from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import pre_save
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gradient.authentication import client_ip

log = logging.getLogger(__name__)

CREATE = LogEntry.Action.CREATE
UPDATE = LogEntry.Action.UPDATE
ACCESS = LogEntry.Action.ACCESS

# The events, as stored in additional_data["event"], with the label the admin shows.
LOGIN = "auth.login"
LOGOUT = "auth.logout"
LOGIN_FAILED = "auth.login_failed"
LOCKED_OUT = "auth.locked_out"
SUBMITTED = "assessment.submitted"
VERIFIED = "verification.completed"
REPORT_REQUESTED = "report.requested"
REPORT_DOWNLOADED = "report.downloaded"
REGISTER_IMPORTED = "register.imported"
INVITATIONS_CREATED = "invitations.created"
INVITATIONS_REMINDED = "invitations.reminded"
INVITATIONS_SENT = "invitations.sent"
FRAMEWORK_PUBLISHED = "framework.published"

EVENTS = {
    LOGIN: _("Log-in"),
    LOGOUT: _("Log-out"),
    LOGIN_FAILED: _("Failed log-in"),
    LOCKED_OUT: _("Lock-out"),
    SUBMITTED: _("Submission"),
    VERIFIED: _("Verification completed"),
    REPORT_REQUESTED: _("Report request"),
    REPORT_DOWNLOADED: _("Report download"),
    REGISTER_IMPORTED: _("Register import"),
    INVITATIONS_CREATED: _("Firms invited to a round"),
    INVITATIONS_REMINDED: _("Reminders"),
    INVITATIONS_SENT: _("Invitation e-mails sent"),
    FRAMEWORK_PUBLISHED: _("Framework version published"),
}

# Model changes that are events of their own: (app label, model, field, new value) → event.
_TAGGED_CHANGES = {
    ("programmes", "verification", "status", "completed"): VERIFIED,
    ("assessments", "frameworkversion", "status", "published"): FRAMEWORK_PUBLISHED,
}

# What a failed log-in may store of the name that was typed (the username field's length).
USERNAME_LIMIT = 150


def mask_secret(value: str) -> str:
    """A fixed mask: auditlog's default keeps half the value, half a password hash is too much."""
    return "********"


def register() -> None:
    """Register the users, scopes and framework versions with auditlog (idempotent)."""
    from assessments.models import FrameworkVersion
    from clusters.models import FirmMember, OfficialScope

    user_model = get_user_model()
    tracked: dict[type[models.Model], dict[str, Any]] = {
        # The password is masked in full (mask_secret).
        user_model: {
            # Its own fields only (auditlog would list every reverse relation too); last_login
            # is left out, since each log-in has its own entry.
            "include_fields": [
                "username",
                "first_name",
                "last_name",
                "email",
                "is_active",
                "is_staff",
                "is_superuser",
                "password",
            ],
            "mask_fields": ["password"],
            "mask_callable": "gradient.audit.mask_secret",
            "m2m_fields": {"groups", "user_permissions"},
        },
        OfficialScope: {},
        FirmMember: {},
        # Not the definition, the published file itself (its hash is logged): no copy of it in
        # every entry.
        FrameworkVersion: {
            "include_fields": [
                "framework",
                "version",
                "title",
                "source",
                "content_hash",
                "status",
                "published_at",
                "levels_comparable_with",
            ]
        },
    }
    for model, options in tracked.items():
        if not auditlog.contains(model):
            auditlog.register(model, **options)
    pre_save.connect(_complete_entry, sender=LogEntry, dispatch_uid="gradient_audit_entry")


def _context() -> dict[str, Any] | None:
    try:
        return auditlog_value.get()
    except LookupError:
        return None


def _complete_entry(sender: Any, instance: LogEntry, **kwargs: Any) -> None:
    """Before an entry is written: the request's user as actor if none was given, and the
    event tag of a change that is one. Runs before auditlog's own per-request receiver."""
    context = _context()
    if context is not None and context.get("actor") is None:
        request = context.get("request")
        user = getattr(request, "user", None) if request is not None else None
        if user is not None and user.is_authenticated:
            # The user itself, not the request's lazy wrapper around it.
            context["actor"] = getattr(user, "_wrapped", user)
    if instance.additional_data or not isinstance(instance.changes, dict):
        return
    content_type = instance.content_type
    for field, values in instance.changes.items():
        if not isinstance(values, list | tuple) or len(values) != 2:
            continue
        event = _TAGGED_CHANGES.get(
            (content_type.app_label, content_type.model, field, str(values[1]))
        )
        if event:
            instance.additional_data = {"event": event}
            return


def record(
    event: str,
    obj: models.Model,
    *,
    actor: Any = None,
    action: int = LogEntry.Action.ACCESS,
    request: HttpRequest | None = None,
    changes: dict[str, list[str]] | None = None,
    **details: Any,
) -> LogEntry:
    """Write one entry for `event` about `obj` and return it; `details` (JSON values: counts,
    formats, file names, never secrets) are stored beside the event name.

    The actor defaults to the request's user, the address is always the request's (none in a
    worker or on the command line; `request` gives it where no middleware runs)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    entry = LogEntry.objects.log_create(
        obj,
        force_log=True,
        action=action,
        changes=changes or {},
        actor=user,
        actor_email=getattr(user, "email", None) if user else None,
        additional_data={"event": event, **details},
        **_address(request),
    )
    assert entry is not None  # force_log always writes
    return entry


def record_login_failure(
    event: str, username: str, *, request: HttpRequest | None = None, **details: Any
) -> LogEntry:
    """Write a failed log-in or a lock-out: the user if the name is one, else the name typed."""
    user_model = get_user_model()
    username = (username or "")[:USERNAME_LIMIT]
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(user_model),
        object_pk=str(user.pk) if user else "",
        object_id=user.pk if user else None,
        object_repr=username,
        action=LogEntry.Action.ACCESS,
        changes={},
        additional_data={"event": event, "username": username, **details},
        **_address(request),
    )


def _address(request: HttpRequest | None) -> dict[str, Any]:
    """The request's address for an entry written outside the middleware (a test client's
    force_login); inside it the middleware's address is the same."""
    address = client_ip(request) if request is not None else ""
    return {"remote_addr": address} if address else {}


def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(LOGIN, user, actor=user, request=request)


def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:  # logging out without a session logs nobody out
        record(LOGOUT, user, actor=user, request=request)


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already replaced the password in `credentials`; only the name is kept.
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    record_login_failure(LOGIN_FAILED, str(username or ""), request=request)


def _locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    record_login_failure(LOCKED_OUT, str(username or ""), request=request)


def connect_login_events() -> None:
    """Record log-ins, log-outs, failed log-ins (Django's signals) and lock-outs (axes')."""
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(_logged_in, dispatch_uid="gradient_audit_login")
    user_logged_out.connect(_logged_out, dispatch_uid="gradient_audit_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="gradient_audit_login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="gradient_audit_locked_out")


def event_label(entry: LogEntry) -> str:
    """The entry's event in the active language ("" for a plain model change)."""
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    event = data.get("event", "")
    return str(EVENTS.get(event, event))


class AuditMiddleware(AuditlogMiddleware):
    """auditlog's middleware with the client address of the throttles (X-Forwarded-For only
    from trusted proxies: auditlog's own would believe whatever a client sends) and a user
    that is read when an entry is written, not before the view has signed the client in."""

    def get_extra_data(self, request: HttpRequest) -> dict[str, Any]:
        return {
            "remote_addr": client_ip(request) or None,
            "remote_port": None,
            "actor": None,
            "request": request,
        }
