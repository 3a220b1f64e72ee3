"""Celery entry points for rounds: e-mailing invitations and reminders of large rounds."""

from __future__ import annotations

from celery import shared_task

from assessments import services


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def send_invitation_messages(message_ids: list[int]) -> int:
    """Send one chunk of queued invitation e-mails; a duplicate delivery sends nothing twice."""
    return services.invitation_messages_send(message_ids)
