"""Forms: opening a round, the round page's filters, signing up from an invitation, answers."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.framework import Question
from assessments.models import FrameworkVersion
from assessments.selectors import Tracking
from assessments.services import MAX_NUMBER_DIGITS, framework_text
from clusters.models import Cluster


class AnswerParseError(Exception):
    """The submitted form value cannot be read as an answer of the question's type."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# A number as a person types it: digits, at most one decimal separator, an optional sign.
# Bounded before any conversion: int(Decimal("1e1000000")) alone costs a minute of CPU.
# MAX_NUMBER_DIGITS (15): every decimal of up to 15 significant digits survives as a float.
_MAX_NUMBER_INPUT = 64  # characters as posted, spaces included
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _too_long(number: int | None) -> AnswerParseError:
    if number is None:
        message = _("Enter a number of at most %(digits)s digits, without an exponent.")
        return AnswerParseError(message % {"digits": MAX_NUMBER_DIGITS})
    return AnswerParseError(
        _(
            "Question %(number)s takes a number of at most %(digits)s digits, written out "
            "without an exponent, such as 25 or 12.5."
        )
        % {"number": number, "digits": MAX_NUMBER_DIGITS}
    )


def _number(raw: str, number: int | None = None) -> int | float:
    """A number typed on a phone: full-width digits, a comma decimal separator, spaces.

    `number` is the question's number on the page, which the length message names.
    """
    if len(raw) > _MAX_NUMBER_INPUT:
        raise _too_long(number)
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    text = text.replace("，", ".").replace(",", ".").replace("。", ".")
    if not _NUMBER.fullmatch(text):
        if re.fullmatch(r"[+-]?[0-9.]+[eE][+-]?[0-9]+", text):
            raise _too_long(number)  # an exponent: say how to write the number instead
        raise AnswerParseError(_("Enter a number, such as 25 or 12.5."))
    whole, _point, fraction = text.lstrip("+-").partition(".")
    significant = (whole + fraction.rstrip("0")).lstrip("0")
    if len(whole.lstrip("0")) > MAX_NUMBER_DIGITS or len(significant) > MAX_NUMBER_DIGITS:
        raise _too_long(number)
    value = Decimal(text)  # a short plain decimal now: cheap, and never an exception
    if value == value.to_integral_value():
        return int(value)
    return float(text)


def parse_answer(question: Question, data: QueryDict, number: int | None = None) -> Any:
    """The answer value posted for a question (None when cleared); raises AnswerParseError.

    `number` is the question's number on the page, for messages that name the question.
    """
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
        return _number(raw, number)
    if kind == "level":
        try:
            if len(raw) > _MAX_NUMBER_INPUT:
                raise ValueError(raw)
            return int(raw)
        except ValueError:
            raise AnswerParseError(_("Choose one of the levels.")) from None
    if kind == "text":
        return raw.strip()
    return raw


class FrameworkVersionChoiceField(forms.ModelChoiceField):
    """Framework versions named by their title in the user's language, not by their slug."""

    def label_from_instance(self, obj: FrameworkVersion) -> str:
        title = framework_text(obj.title) or str(obj.framework)
        return title if obj.version in title else f"{title} ({obj.version})"


class RoundForm(forms.Form):
    """An official opens a round for one of their clusters.

    The lists have no "---------" entry: there is always a cluster and a version to choose,
    and an official with a single cluster finds it chosen already.
    """

    cluster = forms.ModelChoiceField(
        label=gettext_lazy("Cluster"), queryset=Cluster.objects.none(), empty_label=None
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    framework_version = FrameworkVersionChoiceField(
        label=gettext_lazy("Framework version"),
        queryset=FrameworkVersion.objects.published().select_related("framework"),
        empty_label=None,
    )
    opens_at = forms.DateTimeField(
        label=gettext_lazy("Opens at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        label=gettext_lazy("Closes at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, clusters: QuerySet[Cluster], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cluster"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = clusters
        only = list(clusters.values_list("pk", flat=True)[:2])
        if len(only) == 1:
            self.initial.setdefault("cluster", only[0])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The closing date must be after the opening date."))
        return data


ROUND_PAGE_SIZES = (25, 50, 100)  # rows per page of the round: never thousands at once


class RoundFilterForm(forms.Form):
    """The round page's search (firm name or credit code), status filter and page size."""

    q = forms.CharField(label=gettext_lazy("Name or credit code"), required=False, max_length=100)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    size = forms.TypedChoiceField(
        label=gettext_lazy("Rows per page"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(n, str(n)) for n in ROUND_PAGE_SIZES],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All statuses")), *Tracking.choices]

    def filters(self) -> tuple[str, str, int]:
        """(search, status, page size), the defaults where the query is not valid."""
        if not self.is_valid():
            return "", "", ROUND_PAGE_SIZES[1]
        data = self.cleaned_data
        return data["q"].strip(), data["status"], data["size"] or ROUND_PAGE_SIZES[1]


class SignupForm(UserCreationForm):
    """A firm respondent creates an account from an invitation link."""

    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")
