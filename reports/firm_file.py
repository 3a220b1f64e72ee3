"""The firm file (一企一档): one page per firm for its officials and its own users."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clusters.selectors import firm_for_user
from reports import history


@login_required
@require_GET
def firm_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A firm's register data, rounds, level trajectory, latest gaps, invitations and result
    PDFs; a firm outside the user's scope is a 404, exactly like one that does not exist."""
    firm = firm_for_user(request.user, pk)
    return render(
        request, "reports/firm_file.html", {"file": history.firm_file(request.user, firm)}
    )
