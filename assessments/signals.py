"""Signals the assessments app sends, for the apps that build on it (reports listens).

Assessments must not import reports: a listener there reacts instead of being called.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent once the transaction that submitted an assessment has committed, with the keyword
# arguments `assessment_id` and `round_id` (ids only, as the listeners' tasks take).
assessment_submitted = Signal()
