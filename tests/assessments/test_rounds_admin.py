"""Admin: rounds with their invitations; submitted assessments are read-only."""

from __future__ import annotations

from django.urls import reverse

from assessments.models import Assessment


def test_round_admin_lists_rounds_with_invitations(client, staff_user, open_round, invitations):
    client.force_login(staff_user)
    assert client.get(reverse("admin:assessments_round_changelist")).status_code == 200
    page = client.get(reverse("admin:assessments_round_change", args=[open_round.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert invitations[0].firm.name in html
    assert invitations[0].token not in html


def test_submitted_assessment_is_read_only_in_admin(client, staff_user, draft):
    Assessment.objects.filter(pk=draft.pk).update(status="submitted")
    client.force_login(staff_user)
    url = reverse("admin:assessments_assessment_change", args=[draft.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(url, {"status": "draft"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == "submitted"


def test_admin_labels_are_chinese(client, staff_user, draft):
    """Methodologists on the Chinese admin read field names in Chinese, not "Submitted by"."""
    Assessment.objects.filter(pk=draft.pk).update(status="submitted")
    client.force_login(staff_user)
    url = reverse("admin:assessments_assessment_change", args=[draft.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for english in ("Submitted by", "Framework version", "Level rank", "Round:", "Firm:"):
        assert english not in html
    assert "提交人" in html and "等级" in html and "层级" not in html
