"""Forms: opening a round, inviting firms, signing up from an invitation, and parsing answers."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import FrameworkVersion, localized


class AnswerParseError(Exception):
    """The submitted form value cannot be read as an answer of the question's type."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _number(raw: str) -> int | float:
    """A number typed on a phone: full-width digits, a comma decimal separator, spaces."""
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    text = text.replace("，", ".").replace(",", ".").replace("。", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AnswerParseError(_("Enter a number, such as 25 or 12.5.")) from None
    if not value.is_finite():
        raise AnswerParseError(_("Enter a number, such as 25 or 12.5."))
    if value == value.to_integral_value():
        return int(value)
    return float(text)


def parse_answer(question: Any, data: QueryDict) -> Any:
    """The answer value posted for a question (None when cleared); raises AnswerParseError."""
    kind = question.type
    if kind == "multi":
        chosen = [c for c in data.getlist("value") if c]
        clicked = data.get("clicked", "")
        exclusive = {o.code for o in question.options if o.exclusive}
        # What users expect: ticking "none of these" clears the others, and ticking another
        # option clears "none of these".
        if clicked in chosen and clicked in exclusive:
            chosen = [clicked]
        elif clicked in chosen:
            chosen = [c for c in chosen if c not in exclusive]
        order = [o.code for o in question.options]
        chosen = sorted(set(chosen), key=lambda c: order.index(c) if c in order else len(order))
        return chosen or None
    raw = data.get("value", "")
    if raw is None or raw.strip() == "":
        return None
    if kind == "yesno":
        if raw in {"true", "false"}:
            return raw == "true"
        raise AnswerParseError(_("Choose yes or no."))
    if kind == "number":
        return _number(raw)
    if kind == "level":
        try:
            return int(raw)
        except ValueError:
            raise AnswerParseError(_("Choose one of the levels.")) from None
    if kind == "text":
        return raw.strip()
    return raw


class FrameworkVersionChoiceField(forms.ModelChoiceField):
    """Framework versions named by their title in the user's language, not by their slug."""

    def label_from_instance(self, obj: FrameworkVersion) -> str:
        title = localized(obj.title) or str(obj.framework)
        return title if obj.version in title else f"{title} ({obj.version})"


class RoundForm(forms.Form):
    """An official opens a round for one of their clusters."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    framework_version = FrameworkVersionChoiceField(
        label=gettext_lazy("Framework version"),
        queryset=FrameworkVersion.objects.published().select_related("framework"),
    )
    opens_at = forms.DateTimeField(
        label=gettext_lazy("Opens at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        label=gettext_lazy("Closes at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The closing date must be after the opening date."))
        return data


class SignupForm(UserCreationForm):
    """A firm respondent creates an account from an invitation link."""

    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")
