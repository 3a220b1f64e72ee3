"""Rounds and invitations: opening, inviting, e-mails, the XLSX list, and accepting a link."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assessments.models import Assessment, Invitation, Round
from assessments.services import (
    invitation_accept,
    invitations_create,
    invitations_send,
    round_open,
)
from clusters.models import FirmMember


def _dates():
    now = timezone.now()
    return now - dt.timedelta(hours=1), now + dt.timedelta(days=30)


def test_official_opens_a_round_on_a_published_version(cluster_official, world, demo_version):
    opens, closes = _dates()
    created = round_open(
        user=cluster_official,
        cluster=world["alpha"],
        framework_version=demo_version,
        name="2026 评估",
        opens_at=opens,
        closes_at=closes,
    )
    assert created.created_by == cluster_official
    assert Round.objects.filter(cluster=world["alpha"]).count() == 1


def test_round_dates_must_be_in_order(cluster_official, world, demo_version):
    opens, closes = _dates()
    with pytest.raises(ValidationError) as caught:
        round_open(
            user=cluster_official,
            cluster=world["alpha"],
            framework_version=demo_version,
            name="x",
            opens_at=closes,
            closes_at=opens,
        )
    assert "closes_at" in caught.value.message_dict


def test_a_draft_framework_version_cannot_be_used(cluster_official, world, demo_version):
    demo_version.status = "draft"
    opens, closes = _dates()
    with pytest.raises(ValidationError) as caught:
        round_open(
            user=cluster_official,
            cluster=world["alpha"],
            framework_version=demo_version,
            name="x",
            opens_at=opens,
            closes_at=closes,
        )
    assert "framework_version" in caught.value.message_dict


def test_an_official_cannot_open_a_round_for_another_cluster(cluster_official, world, demo_version):
    opens, closes = _dates()
    with pytest.raises(PermissionDenied):
        round_open(
            user=cluster_official,
            cluster=world["gamma"],
            framework_version=demo_version,
            name="x",
            opens_at=opens,
            closes_at=closes,
        )


def test_inviting_all_firms_gives_each_an_unguessable_token(cluster_official, open_round):
    invitations = invitations_create(open_round, user=cluster_official)
    assert len(invitations) == 3
    tokens = {i.token for i in invitations}
    assert len(tokens) == 3
    # secrets.token_urlsafe(32): 32 random bytes, 43 URL-safe characters.
    assert all(len(t) == 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_inviting_again_keeps_the_token(cluster_official, open_round, world):
    first = invitations_create(open_round, user=cluster_official)
    again = invitations_create(
        open_round, user=cluster_official, firms=[world["firms"]["alpha"][0]]
    )
    assert again[0].token == next(i.token for i in first if i.firm_id == again[0].firm_id)
    assert Invitation.objects.filter(round=open_round).count() == 3


def test_firms_of_another_cluster_cannot_be_invited(cluster_official, open_round, world):
    with pytest.raises(ValidationError):
        invitations_create(open_round, user=cluster_official, firms=[world["firms"]["beta"][0]])


def test_invitations_are_emailed_with_their_link(cluster_official, open_round, world):
    firm = world["firms"]["alpha"][0]
    invitations = invitations_create(
        open_round, user=cluster_official, emails={firm.pk: "boss@example.com"}
    )
    sent = invitations_send(invitations)
    assert sent == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@example.com"]
    token = next(i.token for i in invitations if i.firm_id == firm.pk)
    assert f"/invite/{token}/" in message.body
    assert Invitation.objects.get(token=token).sent_at is not None


def test_invitation_xlsx_lists_every_link(client, cluster_official, open_round):
    invitations_create(open_round, user=cluster_official)
    client.force_login(cluster_official)
    response = client.get(reverse("assessments:round_invitations_xlsx", args=[open_round.pk]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4
    links = {row[3] for row in rows[1:]}
    assert links == {
        f"http://127.0.0.1:8000/invite/{i.token}/" for i in open_round.invitations.all()
    }


def test_another_clusters_official_cannot_see_the_round(client, world, open_round):
    from tests.factories import OfficialScopeFactory, UserFactory

    official = UserFactory(username="gamma_official")
    OfficialScopeFactory(user=official, cluster=world["gamma"])
    client.force_login(official)
    assert client.get(reverse("assessments:round", args=[open_round.pk])).status_code == 404
    url = reverse("assessments:round_invitations_xlsx", args=[open_round.pk])
    assert client.get(url).status_code == 404


def test_round_page_invites_ticked_firms(client, cluster_official, open_round, world):
    client.force_login(cluster_official)
    firm = world["firms"]["alpha"][1]
    response = client.post(
        reverse("assessments:round", args=[open_round.pk]),
        {"firm": [str(firm.pk)], f"email-{firm.pk}": "a@example.com"},
    )
    assert response.status_code == 302
    assert list(open_round.invitations.values_list("firm_id", flat=True)) == [firm.pk]
    assert len(mail.outbox) == 1


def test_round_create_page(client, cluster_official, world, demo_version):
    client.force_login(cluster_official)
    response = client.post(
        reverse("assessments:round_create"),
        {
            "cluster": world["alpha"].pk,
            "framework_version": demo_version.pk,
            "name": "2026 春季",
            "opens_at": "2026-01-01T08:00",
            "closes_at": "2026-12-31T18:00",
        },
    )
    assert response.status_code == 302
    assert Round.objects.get().name == "2026 春季"


def test_round_create_page_names_framework_versions_by_title(
    client, cluster_official, world, demo_version
):
    """The version list shows the framework's title in the user's language, not its slug."""
    from assessments.framework import text

    client.force_login(cluster_official)
    response = client.get(reverse("assessments:round_create"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert text(demo_version.title, "zh-hans") in page
    assert f">{demo_version.framework.slug} {demo_version.version}<" not in page


def test_accepting_binds_the_user_to_the_firm_and_starts_a_draft(open_round, invitations, outsider):
    invitation = invitations[0]
    assessment = invitation_accept(invitation, user=outsider)
    assert FirmMember.objects.filter(user=outsider, firm=invitation.firm).exists()
    assert assessment.status == "draft" and assessment.round == open_round
    invitation.refresh_from_db()
    assert invitation.accepted_by == outsider and invitation.accepted_at is not None
    # Accepting again resumes the same draft.
    assert invitation_accept(invitation, user=outsider).pk == assessment.pk


def test_invitation_link_signup_creates_account_and_opens_the_questionnaire(client, invitations):
    invitation = invitations[0]
    url = reverse("assessments:invitation", args=[invitation.token])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "username": "plant-manager",
            "email": "pm@example.com",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
        },
    )
    assessment = Assessment.objects.get(firm=invitation.firm, round=invitation.round)
    assert response.status_code == 302
    assert response.url == reverse("assessments:questionnaire", args=[assessment.pk])
    assert FirmMember.objects.filter(user__username="plant-manager", firm=invitation.firm).exists()


def test_signup_with_mismatched_passwords_shows_the_problem(client, invitations):
    url = reverse("assessments:invitation", args=[invitations[0].token])
    response = client.post(
        url, {"username": "pm", "password1": "a-long-passphrase-1", "password2": "other-one-2"}
    )
    assert response.status_code == 200
    assert 'class="errors"' in response.content.decode()
    assert not Assessment.objects.exists()


def test_a_wrong_token_is_a_friendly_404(client, invitations):
    response = client.get(reverse("assessments:invitation", args=["not-a-token"]))
    assert response.status_code == 404
    assert "invitation" in response.content.decode().lower() or "邀请" in (
        response.content.decode()
    )


def test_logged_in_user_accepts_with_one_click(client, outsider, invitations):
    client.force_login(outsider)
    url = reverse("assessments:invitation", args=[invitations[0].token])
    response = client.post(url, {"accept": "1"})
    assert response.status_code == 302
    assert Assessment.objects.filter(firm=invitations[0].firm).exists()


def test_an_uninvited_firm_cannot_start(client, firm_user, open_round, world):
    client.force_login(firm_user)
    firm = world["firms"]["alpha"][0]
    url = reverse("assessments:round_start", args=[open_round.pk, firm.pk])
    assert client.post(url).status_code == 404
    assert not Assessment.objects.exists()


def test_round_page_links_to_submitted_results(client, cluster_official, firm_user, draft):
    from assessments.services import assessment_submit
    from tests.assessments.questionnaire_fixtures import FULL_ANSWERS, answer_all

    answer_all(draft, FULL_ANSWERS, firm_user)
    assessment_submit(draft, user=firm_user)
    client.force_login(cluster_official)
    html = client.get(reverse("assessments:round", args=[draft.round_id])).content.decode()
    assert reverse("assessments:result", args=[draft.pk]) in html
    assert "1 submitted" in html or "1 家已提交" in html


def test_xlsx_keeps_formula_like_names_as_text(client, cluster_official, open_round, world):
    firm = world["firms"]["alpha"][0]
    firm.name = '=HYPERLINK("http://example.com","x")'
    firm.save()
    invitations_create(open_round, user=cluster_official)
    client.force_login(cluster_official)
    response = client.get(reverse("assessments:round_invitations_xlsx", args=[open_round.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    cell = next(c for c in cells if str(c.value).startswith("="))
    assert cell.data_type == "s"


def test_officials_home_names_the_rounds_card(client, cluster_official, world):
    """The rounds card on an official's home page has a heading and says what it is for."""
    client.force_login(cluster_official)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<h2>评测轮次</h2>" in page
    assert "发起评测轮次、邀请企业" in page


def test_round_page_links_back_and_says_version_in_words(client, cluster_official, open_round):
    client.force_login(cluster_official)
    page = client.get(
        reverse("assessments:round", args=[open_round.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert f'href="{reverse("assessments:round_list")}"' in page
    assert f"版本 {open_round.framework_version.version}" in page


def test_round_list_fits_a_phone(client, cluster_official, invitations, open_round):
    """Four columns, not five: the cluster goes under the round's name and the counts share a
    column, so nothing is pushed off a 375 px screen."""
    client.force_login(cluster_official)
    page = client.get(reverse("assessments:round_list")).content.decode()
    row = page.split(f'href="{reverse("assessments:round", args=[open_round.pk])}"')[1]
    row = row.split("</tr>")[0]
    assert row.count("<td") == 2  # after the name cell: dates, counts
    assert open_round.cluster.name in row
    assert f"0 / {len(invitations)}" in row


def _close(round_: Round) -> None:
    round_.opens_at = timezone.now() - dt.timedelta(days=30)
    round_.closes_at = timezone.now() - dt.timedelta(days=1)
    round_.save()


def test_an_invitation_joins_nobody_after_the_round_closed(open_round, invitations, outsider):
    invitation = invitations[0]
    _close(open_round)
    invitation.round.refresh_from_db()
    with pytest.raises(PermissionDenied):
        invitation_accept(invitation, user=outsider)
    assert not FirmMember.objects.filter(user=outsider, firm=invitation.firm).exists()


def test_a_member_can_still_follow_the_link_after_the_round_closed(
    open_round, invitations, outsider
):
    invitation = invitations[0]
    first = invitation_accept(invitation, user=outsider)
    _close(open_round)
    invitation.round.refresh_from_db()
    assert invitation_accept(invitation, user=outsider).pk == first.pk


def test_the_expired_link_page_offers_no_sign_up(client, open_round, invitations):
    _close(open_round)
    url = reverse("assessments:invitation", args=[invitations[0].token])
    page = client.get(url).content.decode()
    assert "本轮评测已结束，该邀请链接已失效" in page
    assert 'id="signup"' not in page
    response = client.post(
        url,
        {
            "username": "late-comer",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
        },
        follow=True,
    )
    assert not FirmMember.objects.filter(user__username="late-comer").exists()
    assert "本轮评测已结束" in response.content.decode()


def test_invitation_list_names_each_firms_status_in_order(cluster_official, open_round, world):
    from django.utils import translation

    from assessments.exporting import invitations_export

    invitations_create(open_round, user=cluster_official)
    started = world["firms"]["alpha"][0]
    Assessment.objects.create(
        round=open_round, firm=started, framework_version=open_round.framework_version
    )
    with translation.override("en"):
        data = invitations_export(open_round)
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "Invitations"
    assert rows[0] == ("Firm", "Unified social credit code", "E-mail", "Link", "Status")
    names = sorted(f.name for f in world["firms"]["alpha"])
    assert [row[0] for row in rows[1:]] == names
    status = {row[0]: row[4] for row in rows[1:]}
    assert status[started.name] == "Draft"
    assert sorted(set(status.values())) == ["Draft", "Not started"]
    assert sheet.column_dimensions["D"].width == 70
