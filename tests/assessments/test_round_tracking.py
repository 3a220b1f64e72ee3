"""Response tracking on the round page (issue 10, part 3): invite, remind, filter, page.

Services first (what is recorded and sent, idempotence, the reminder bounds, scope), then the
page (summary, filters, search, paging, bulk actions), then the number of queries.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from assessments import selectors, services
from assessments.forms import RoundForm
from assessments.models import (
    Assessment,
    Invitation,
    InvitationMessage,
    InvitationOpening,
    Round,
)
from assessments.selectors import Tracking
from tests.factories import (
    AssessmentFactory,
    FirmFactory,
    MembershipFactory,
    OfficialScopeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def addressed(world):
    """Give every firm of alpha a contact e-mail in the register."""
    for index, firm in enumerate(world["firms"]["alpha"]):
        firm.contact_email = f"contact{index}@example.com"
        firm.save()
    return world["firms"]["alpha"]


@pytest.fixture
def gamma_official(world):
    user = UserFactory(username="gamma_official")
    OfficialScopeFactory(user=user, cluster=world["gamma"])
    return user


def _url(round_) -> str:
    return reverse("assessments:round", args=[round_.pk])


# --- Inviting --------------------------------------------------------------------------------


def test_inviting_all_not_yet_invited_uses_the_register_address_and_records_the_time(
    cluster_official, open_round, addressed
):
    outcome = services.round_invite(open_round, user=cluster_official, language="en")
    assert (outcome.invited, outcome.queued, outcome.sent_now) == (3, 3, 3)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "contact0@example.com",
        "contact1@example.com",
        "contact2@example.com",
    ]
    for invitation in Invitation.objects.filter(round=open_round):
        assert invitation.email == invitation.firm.contact_email
        assert invitation.sent_at is not None
        message = invitation.messages.get()
        assert message.kind == "invitation" and message.status == "sent"
        assert message.created_by == cluster_official and message.sent_at is not None
        assert f"http://127.0.0.1:8000/invite/{invitation.token}/" in next(
            m.body for m in mail.outbox if m.to == [invitation.email]
        )


def test_inviting_twice_sends_nothing_twice(cluster_official, open_round, addressed):
    services.round_invite(open_round, user=cluster_official)
    again = services.round_invite(open_round, user=cluster_official)
    assert (again.invited, again.queued, again.sent_now) == (0, 0, 0)
    ticked = services.round_invite(
        open_round, user=cluster_official, firm_ids=[addressed[0].pk, addressed[0].pk]
    )
    assert (ticked.invited, ticked.queued, ticked.skipped) == (0, 0, 1)
    assert len(mail.outbox) == 3
    assert Invitation.objects.filter(round=open_round).count() == 3
    assert InvitationMessage.objects.count() == 3


def test_a_firm_without_an_address_is_invited_but_not_mailed(cluster_official, open_round, world):
    firm = world["firms"]["alpha"][0]
    outcome = services.round_invite(open_round, user=cluster_official, firm_ids=[firm.pk])
    assert (outcome.invited, outcome.queued, outcome.without_email) == (1, 0, 1)
    assert mail.outbox == []
    # Once the register has an address, inviting again mails it (the first e-mail).
    firm.contact_email = "late@example.com"
    firm.save()
    outcome = services.round_invite(open_round, user=cluster_official, firm_ids=[firm.pk])
    assert (outcome.invited, outcome.sent_now) == (0, 1)
    assert mail.outbox[0].to == ["late@example.com"]


def test_the_email_is_written_in_the_officials_language(cluster_official, open_round, addressed):
    services.round_invite(open_round, user=cluster_official, language="zh-hans")
    assert "数字化" in mail.outbox[0].subject


def test_a_failed_email_is_recorded_and_may_be_sent_again(
    cluster_official, open_round, addressed, monkeypatch
):
    def refuse(self, *args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    outcome = services.round_invite(open_round, user=cluster_official, firm_ids=[addressed[0].pk])
    assert outcome.sent_now == 0
    message = InvitationMessage.objects.get()
    assert message.status == "failed" and "connection refused" in message.error
    monkeypatch.undo()
    again = services.round_invite(open_round, user=cluster_official, firm_ids=[addressed[0].pk])
    assert again.sent_now == 1


def test_a_large_round_is_mailed_by_the_worker_in_chunks(
    cluster_official, open_round, world, django_capture_on_commit_callbacks, monkeypatch
):
    for n in range(services.INLINE_SEND_LIMIT + 5):
        firm = FirmFactory(contact_email=f"bulk{n}@example.com")
        MembershipFactory(cluster=world["alpha"], firm=firm)
    monkeypatch.setattr(services, "SEND_CHUNK", 10)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            outcome = services.round_invite(open_round, user=cluster_official)
        assert outcome.sent_now == 0 and outcome.queued == services.INLINE_SEND_LIMIT + 5
        assert mail.outbox == []  # nothing is sent inside the request
        assert len(callbacks) == 3  # 25 e-mails in chunks of 10
        for callback in callbacks:
            callback()
    assert len(mail.outbox) == services.INLINE_SEND_LIMIT + 5
    assert set(InvitationMessage.objects.values_list("status", flat=True)) == {"sent"}
    # A duplicate delivery of a chunk sends nothing again.
    from assessments.tasks import send_invitation_messages

    assert (
        send_invitation_messages(list(InvitationMessage.objects.values_list("pk", flat=True))) == 0
    )


def test_an_official_of_another_cluster_cannot_invite_or_remind(gamma_official, open_round, world):
    with pytest.raises(PermissionDenied):
        services.round_invite(open_round, user=gamma_official)
    with pytest.raises(PermissionDenied):
        services.round_remind(open_round, user=gamma_official)
    assert not Invitation.objects.exists()


def test_firms_outside_the_rounds_cluster_cannot_be_invited(cluster_official, open_round, world):
    with pytest.raises(ValidationError):
        services.round_invite(
            open_round, user=cluster_official, firm_ids=[world["firms"]["gamma"][0].pk]
        )
    assert not Invitation.objects.exists()


def test_opening_the_link_records_the_first_visit_only(client, open_round, invitations):
    invitation = invitations[0]
    url = reverse("assessments:invitation", args=[invitation.token])
    client.get(url)
    first = InvitationOpening.objects.get(invitation=invitation).opened_at
    client.get(url)
    assert InvitationOpening.objects.get(invitation=invitation).opened_at == first
    assert InvitationOpening.objects.count() == 1


def test_an_official_checking_the_link_does_not_mark_it_opened(
    client, cluster_official, open_round, invitations
):
    client.force_login(cluster_official)
    client.get(reverse("assessments:invitation", args=[invitations[0].token]))
    assert not InvitationOpening.objects.exists()


# --- Reminding -------------------------------------------------------------------------------


def _invited_a_day_ago(cluster_official, open_round) -> None:
    services.round_invite(open_round, user=cluster_official)
    InvitationMessage.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))


def test_reminders_go_to_everyone_who_has_not_submitted(
    cluster_official, open_round, addressed, world
):
    _invited_a_day_ago(cluster_official, open_round)
    from tests.assessments.questionnaire_fixtures import FULL_ANSWERS
    from tests.factories import SubmittedAssessmentFactory

    SubmittedAssessmentFactory(round=open_round, firm=addressed[0], answers=FULL_ANSWERS)
    mail.outbox.clear()
    outcome = services.round_remind(open_round, user=cluster_official, language="en")
    assert (outcome.queued, outcome.sent_now, outcome.skipped) == (2, 2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == ["contact1@example.com", "contact2@example.com"]
    assert all(m.subject.startswith("Reminder") for m in mail.outbox)
    assert InvitationMessage.objects.filter(kind="reminder").count() == 2


def test_a_second_reminder_click_sends_nothing(cluster_official, open_round, addressed):
    _invited_a_day_ago(cluster_official, open_round)
    mail.outbox.clear()
    services.round_remind(open_round, user=cluster_official)
    again = services.round_remind(open_round, user=cluster_official)
    assert (again.queued, again.skipped) == (0, 3)
    assert len(mail.outbox) == 3


def test_no_reminder_right_after_the_invitation(cluster_official, open_round, addressed):
    services.round_invite(open_round, user=cluster_official)
    outcome = services.round_remind(open_round, user=cluster_official)
    assert (outcome.queued, outcome.skipped) == (0, 3)


def test_reminders_stop_at_the_maximum(cluster_official, open_round, addressed):
    _invited_a_day_ago(cluster_official, open_round)
    start = timezone.now()
    for day in range(services.MAX_REMINDERS):
        services.round_remind(open_round, user=cluster_official, now=start + dt.timedelta(days=day))
        InvitationMessage.objects.filter(kind="reminder").update(
            created_at=start - dt.timedelta(days=10)
        )
    late = start + dt.timedelta(days=30)
    outcome = services.round_remind(open_round, user=cluster_official, now=late)
    assert (outcome.queued, outcome.skipped) == (0, 3)
    invitation = Invitation.objects.filter(round=open_round).first()
    with translation.override("en"), pytest.raises(services.ReminderRefused) as caught:
        services.invitation_remind(invitation, user=cluster_official, now=late)
    assert "5 reminders" in caught.value.message


def test_one_firm_can_be_reminded_and_its_history_read(cluster_official, open_round, addressed):
    _invited_a_day_ago(cluster_official, open_round)
    invitation = Invitation.objects.get(round=open_round, firm=addressed[1])
    message = services.invitation_remind(invitation, user=cluster_official)
    assert message.kind == "reminder" and message.status == "sent"
    with pytest.raises(services.ReminderRefused):
        services.invitation_remind(invitation, user=cluster_official)
    [record] = selectors.invitations_for_firm(cluster_official, addressed[1])
    assert [m.kind for m in record.messages] == ["invitation", "reminder"]
    assert record.reminders == [message]


def test_invitation_history_is_scoped(cluster_official, gamma_official, open_round, addressed):
    services.round_invite(open_round, user=cluster_official)
    assert selectors.invitations_for_firm(gamma_official, addressed[0]) == []


# --- The round page --------------------------------------------------------------------------


@pytest.fixture
def tracked(cluster_official, open_round, world, addressed):
    """Alpha's three firms: one invited, one opened, one with a half-answered draft; plus two
    firms not invited, one of them findable by a distinct name."""
    a, b, c = addressed
    services.round_invite(open_round, user=cluster_official, firm_ids=[a.pk, b.pk, c.pk])
    for firm in (b, c):
        services.invitation_mark_opened(Invitation.objects.get(round=open_round, firm=firm))
    AssessmentFactory(round=open_round, firm=c, answers={"B1": 55, "B2": ["policy"]})
    for name in ("未邀请甲公司", "蓝海精工有限公司"):
        MembershipFactory(cluster=world["alpha"], firm=FirmFactory(name=name))
    return {"invited": a, "opened": b, "in_progress": c}


def test_the_summary_counts_each_status(cluster_official, open_round, tracked):
    response = selectors.round_response(cluster_official, open_round)
    assert (response.firms, response.not_invited, response.invited, response.opened) == (5, 2, 1, 1)
    assert (response.in_progress, response.submitted, response.invited_total) == (1, 0, 3)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("invited", ["invited"]),
        ("opened", ["opened"]),
        ("in_progress", ["in_progress"]),
        ("submitted", []),
    ],
)
def test_the_status_filter_shows_only_that_status(
    client, cluster_official, open_round, tracked, status, expected
):
    client.force_login(cluster_official)
    page = client.get(_url(open_round), {"status": status}).content.decode()
    for key, firm in tracked.items():
        assert (f'name="firm" value="{firm.pk}"' in page) == (key in expected), key


def test_not_invited_filter_and_search_by_name_or_code(
    client, cluster_official, open_round, tracked
):
    client.force_login(cluster_official)
    page = client.get(_url(open_round), {"status": "not_invited"}).content.decode()
    assert "未邀请甲公司" in page and "蓝海精工有限公司" in page
    assert tracked["invited"].name not in page
    page = client.get(_url(open_round), {"q": "蓝海"}).content.decode()
    assert "蓝海精工有限公司" in page and "未邀请甲公司" not in page
    code = tracked["opened"].uscc
    page = client.get(_url(open_round), {"q": code[-8:].lower()}).content.decode()
    assert f'name="firm" value="{tracked["opened"].pk}"' in page
    assert f'name="firm" value="{tracked["invited"].pk}"' not in page


def test_a_draft_shows_its_share_answered(client, cluster_official, open_round, tracked):
    client.force_login(cluster_official)
    with translation.override("en"):
        page = client.get(
            _url(open_round), {"status": "in_progress"}, HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    # Two of the demo framework's applicable questions answered.
    row = selectors.round_rows(
        open_round, selectors.round_firms(cluster_official, open_round, tracking="in_progress")
    )[0]
    assert 0 < row.percent_answered < 100
    assert f"{row.percent_answered}% answered" in page


def test_a_bad_filter_falls_back_to_every_firm(client, cluster_official, open_round, tracked):
    client.force_login(cluster_official)
    response = client.get(_url(open_round), {"status": "<script>", "size": "100000", "page": "x"})
    assert response.status_code == 200
    assert response.content.decode().count('name="firm" value=') == 5


def test_pages_are_bounded(client, cluster_official, open_round, world):
    for n in range(60):
        MembershipFactory(cluster=world["alpha"], firm=FirmFactory(name=f"分页企业{n:03d}"))
    client.force_login(cluster_official)
    first = client.get(_url(open_round)).content.decode()
    assert first.count('name="firm" value=') == 50
    assert '<option value="50" selected>' in first  # the list says the size in use
    second = client.get(_url(open_round), {"page": "2"}).content.decode()
    assert second.count('name="firm" value=') == 13
    small = client.get(_url(open_round), {"size": "25", "page": "3"}).content.decode()
    assert small.count('name="firm" value=') == 13
    assert 'href="?size=25&amp;page=2"' in small


def test_the_actions_come_before_the_list(client, cluster_official, open_round, tracked):
    client.force_login(cluster_official)
    page = client.get(_url(open_round)).content.decode()
    assert page.index('value="invite_all"') < page.index('name="firm" value=')
    assert page.index('value="remind"') < page.index('name="firm" value=')
    assert page.index("<progress") < page.index('value="invite_all"')


def test_the_page_invites_all_not_yet_invited_and_keeps_the_filters(
    client, cluster_official, open_round, tracked
):
    client.force_login(cluster_official)
    mail.outbox.clear()
    response = client.post(
        _url(open_round), {"action": "invite_all", "status": "not_invited", "q": "", "page": "1"}
    )
    assert response.status_code == 302
    assert response.url == _url(open_round) + "?status=not_invited&page=1"
    assert Invitation.objects.filter(round=open_round).count() == 5
    assert mail.outbox == []  # the two new firms have no address in the register
    again = client.post(_url(open_round), {"action": "invite_all"})
    assert again.status_code == 302
    assert Invitation.objects.filter(round=open_round).count() == 5


def test_the_page_reminds_and_says_what_it_did(client, cluster_official, open_round, tracked):
    InvitationMessage.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    client.force_login(cluster_official)
    mail.outbox.clear()
    response = client.post(
        _url(open_round), {"action": "remind"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert len(mail.outbox) == 3
    assert "3 e-mails sent." in response.content.decode()
    client.post(_url(open_round), {"action": "remind"})
    assert len(mail.outbox) == 3


def test_the_page_refuses_a_firm_of_another_cluster_like_an_unknown_one(
    client, cluster_official, open_round, world
):
    client.force_login(cluster_official)

    def said(firm_id: object) -> tuple[int, list[str]]:
        response = client.post(_url(open_round), {"firm": [firm_id]}, follow=True)
        return response.status_code, [f"{m.level_tag}: {m}" for m in response.context["messages"]]

    outside = said(world["firms"]["gamma"][0].pk)
    assert outside == said(999_999)
    assert outside[1][0].startswith("error: ")
    assert not Invitation.objects.exists()


def test_an_official_of_another_cluster_gets_404_on_the_page_and_its_actions(
    client, gamma_official, open_round, addressed
):
    client.force_login(gamma_official)
    assert client.get(_url(open_round)).status_code == 404
    for action in ("invite_all", "remind", "invite"):
        data = {"action": action, "firm": [addressed[0].pk]}
        assert client.post(_url(open_round), data).status_code == 404
    assert not Invitation.objects.exists() and mail.outbox == []


def test_the_page_queries_do_not_grow_with_the_firms(
    client, cluster_official, open_round, world, django_assert_max_num_queries
):
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            firm = FirmFactory(name=f"计数企业{i:04d}", contact_email=f"c{i}@example.com")
            MembershipFactory(cluster=world["alpha"], firm=firm)
            invitation = Invitation.objects.create(
                round=open_round, firm=firm, token=f"tok-{i:040d}"
            )
            if i % 3 == 0:
                AssessmentFactory(round=open_round, firm=firm, answers={"B1": 10})
            InvitationMessage.objects.create(
                invitation=invitation, kind="invitation", email="x@example.com"
            )

    client.force_login(cluster_official)
    add(10, 0)
    client.get(_url(open_round))  # warm the framework cache and the session
    with django_assert_max_num_queries(11) as small:
        assert client.get(_url(open_round)).status_code == 200
    add(120, 10)
    with django_assert_max_num_queries(11) as large:
        page = client.get(_url(open_round), {"size": "100"})
    assert page.content.decode().count('name="firm" value=') == 100
    assert len(large.captured_queries) == len(small.captured_queries)


# --- The round form --------------------------------------------------------------------------


def test_the_round_form_has_no_placeholder_and_preselects_the_only_cluster(
    client, cluster_official, world, demo_version
):
    client.force_login(cluster_official)
    page = client.get(reverse("assessments:round_create")).content.decode()
    assert "---------" not in page
    assert f'<option value="{world["alpha"].pk}" selected>' in page


def test_the_round_form_preselects_nothing_for_several_clusters(regional_official, world):
    from clusters.selectors import clusters_visible_to

    form = RoundForm(clusters=clusters_visible_to(regional_official))
    assert "cluster" not in form.initial
    assert form.fields["cluster"].empty_label is None


def test_tracking_labels_are_translated():
    with translation.override("zh-hans"):
        labels = [str(label) for _value, label in Tracking.choices]
    assert labels == ["未邀请", "已邀请", "已打开", "填写中", "已提交"]
    assert Assessment.Status.SUBMITTED == Tracking.SUBMITTED


def test_a_closed_round_invites_and_reminds_nobody_from_the_page_or_the_services(
    client, cluster_official, open_round, tracked
):
    InvitationMessage.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    Round.objects.filter(pk=open_round.pk).update(
        opens_at=timezone.now() - dt.timedelta(days=30),
        closes_at=timezone.now() - dt.timedelta(minutes=1),
    )
    open_round.refresh_from_db()
    before = InvitationMessage.objects.count()
    mail.outbox.clear()
    with pytest.raises(services.RoundClosed):
        services.round_remind(open_round, user=cluster_official)
    with pytest.raises(services.RoundClosed):
        services.round_invite(open_round, user=cluster_official)
    client.force_login(cluster_official)
    for action in ("remind", "invite_all"):
        response = client.post(
            _url(open_round), {"action": action}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert "This round is closed." in response.content.decode()
    assert InvitationMessage.objects.count() == before and mail.outbox == []
