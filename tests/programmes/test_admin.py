"""The programme's admin (programmes/admin.py): every page opens for staff with data, stage
moves go through the service and are recorded, records stay read-only, the audit trail is
filterable."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from assessments.models import Assessment
from programmes.admin import ProjectForm
from programmes.models import (
    Evidence,
    ProviderRating,
    RetrofitProject,
    StageChange,
    Verification,
    VerifiedAnswer,
)
from tests.factories import UserFactory
from tests.programmes import demo_fixtures

demo = demo_fixtures.demo
Stage = RetrofitProject.Stage
pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(demo: Any) -> Any:
    return UserFactory(username="staff_admin", is_staff=True, is_superuser=True)


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _programme_admins() -> list[Any]:
    return [
        model
        for model in admin.site._registry
        if model._meta.app_label == "programmes" or model is LogEntry
    ]


def test_every_programme_model_and_the_audit_trail_are_registered() -> None:
    names = {m._meta.model_name for m in _programme_admins()}
    assert names == {
        "provider",
        "providermember",
        "programme",
        "assessorscope",
        "retrofitproject",
        "stagechange",
        "providerrating",
        "verification",
        "verifiedanswer",
        "evidence",
        "logentry",
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_changelist_and_change_page_opens_for_staff_with_data(
    staff: Any, language: str
) -> None:
    client = _client(staff, language)
    for model in _programme_admins():
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        rows = model._default_manager.order_by("pk")
        assert rows.exists(), meta.model_name
        listing = client.get(reverse(f"{base}_changelist"))
        assert listing.status_code == 200, meta.model_name
        first = rows.first()
        page = client.get(reverse(f"{base}_change", args=[first.pk]))
        assert page.status_code == 200, meta.model_name
        history = client.get(reverse(f"{base}_history", args=[first.pk]))
        assert history.status_code == 200, meta.model_name
        if f"{base}_auditlog" in {p.name for p in admin.site._registry[model].get_urls()}:
            trail = client.get(reverse(f"{base}_auditlog", args=[first.pk]))
            assert trail.status_code == 200, meta.model_name
    if language == "zh-hans":
        body = client.get(reverse("admin:programmes_retrofitproject_changelist")).content.decode()
        assert "改造项目" in body and "已验收" in body
        body = client.get(reverse("admin:auditlog_logentry_changelist")).content.decode()
        assert "日志条目" in body and "操作人" in body


def test_the_project_list_filters_by_stage_provider_programme_region_and_kind(
    staff: Any,
) -> None:
    client = _client(staff)
    project = RetrofitProject.objects.filter(stage=Stage.ABANDONED).select_related(
        "provider", "programme"
    )[0]
    url = reverse("admin:programmes_retrofitproject_changelist")
    filters = {
        "stage__exact": Stage.ABANDONED,
        "provider__id__exact": project.provider_id,
        "programme__id__exact": project.programme_id,
        "programme__region__id__exact": project.programme.region_id,
        "provider__kind__exact": project.provider.kind,
    }
    for key, value in filters.items():
        response = client.get(url, {key: value})
        assert response.status_code == 200, key  # an unknown filter redirects with ?e=1
        shown = {row.pk for row in response.context["cl"].result_list}
        assert project.pk in shown, key
    abandoned = client.get(url, {"stage__exact": Stage.ABANDONED}).context["cl"].result_list
    assert {p.stage for p in abandoned} == {Stage.ABANDONED}
    searched = client.get(url, {"q": project.firm.uscc}).context["cl"].result_list
    assert [p.pk for p in searched] == [project.pk]


def test_firms_and_assessments_are_never_a_select_of_all_rows(staff: Any) -> None:
    project = RetrofitProject.objects.filter(stage=Stage.DIAGNOSED).first()
    body = _client(staff).get(reverse("admin:programmes_retrofitproject_change", args=[project.pk]))
    form = body.context["adminform"].form
    # Autocomplete (firm, provider) and raw ids (assessments): no option per row in the page.
    assert form.fields["baseline"].widget.__class__.__name__ == "ForeignKeyRawIdWidget"
    html = body.content.decode()
    other_firms = RetrofitProject.objects.exclude(pk=project.pk).select_related("firm")[:5]
    assert not any(f'<option value="{p.firm_id}">' in html for p in other_firms)


def test_a_stage_move_through_the_change_form_records_a_stage_change(staff: Any) -> None:
    project = RetrofitProject.objects.filter(stage=Stage.CONTRACTED).first()
    client = _client(staff)
    url = reverse("admin:programmes_retrofitproject_change", args=[project.pk])
    page = client.get(url)
    data = _form_data(page)
    data.update({"move_to": Stage.IN_PROGRESS, "move_note": "驻场实施开始"})
    before = project.stage_changes.count()
    response = client.post(url, data)
    assert response.status_code == 302, _errors(response)
    project.refresh_from_db()
    assert project.stage == Stage.IN_PROGRESS
    last = project.stage_changes.order_by("-pk").first()
    assert project.stage_changes.count() == before + 1
    assert (last.from_stage, last.to_stage, last.changed_by, last.note) == (
        Stage.CONTRACTED,
        Stage.IN_PROGRESS,
        staff,
        "驻场实施开始",
    )
    entries = LogEntry.objects.get_for_object(last)
    assert entries.filter(actor=staff).exists()


def test_the_change_form_offers_only_the_stages_ahead(staff: Any) -> None:
    project = RetrofitProject.objects.filter(stage=Stage.IN_PROGRESS).first()
    form = ProjectForm(instance=project)
    offered = [value for value, _label in form.fields["move_to"].choices if value]
    assert offered == [Stage.DELIVERED, Stage.ACCEPTED, Stage.ABANDONED]
    closed = RetrofitProject.objects.filter(stage=Stage.ACCEPTED).first()
    assert ProjectForm(instance=closed).fields["move_to"].disabled


def test_a_move_the_rules_refuse_is_a_form_error_and_writes_nothing(staff: Any) -> None:
    # In progress → accepted without an acceptance assessment: refused by project_move.
    project = RetrofitProject.objects.filter(
        stage=Stage.IN_PROGRESS, acceptance__isnull=True
    ).first()
    client = _client(staff)
    url = reverse("admin:programmes_retrofitproject_change", args=[project.pk])
    data = _form_data(client.get(url))
    data.update({"move_to": Stage.ACCEPTED, "title": "changed title"})
    before = StageChange.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Link the acceptance assessment first" in _errors(response)
    project.refresh_from_db()
    assert project.stage == Stage.IN_PROGRESS and project.title != "changed title"
    assert StageChange.objects.count() == before


def test_another_firms_assessment_is_refused_as_the_baseline(staff: Any) -> None:
    project = RetrofitProject.objects.filter(stage=Stage.DIAGNOSED).first()
    other = Assessment.objects.submitted().exclude(firm=project.firm).first()
    client = _client(staff)
    url = reverse("admin:programmes_retrofitproject_change", args=[project.pk])
    data = _form_data(client.get(url))
    data["baseline"] = str(other.pk)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "belongs to another firm" in _errors(response)
    project.refresh_from_db()
    assert project.baseline_id != other.pk


def test_the_list_action_moves_through_the_service_and_names_refusals(staff: Any) -> None:
    contracted = RetrofitProject.objects.filter(stage=Stage.CONTRACTED).first()
    accepted = RetrofitProject.objects.filter(stage=Stage.ACCEPTED).select_related("firm").first()
    client = _client(staff)
    url = reverse("admin:programmes_retrofitproject_changelist")
    response = client.post(
        url,
        {"action": "move_to_abandoned", "_selected_action": [contracted.pk, accepted.pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    contracted.refresh_from_db()
    accepted.refresh_from_db()
    assert contracted.stage == Stage.ABANDONED
    assert accepted.stage == Stage.ACCEPTED
    assert any("1 project moved" in m for m in messages)
    assert any(accepted.firm.name in m and "can no longer change" in m for m in messages)
    last = contracted.stage_changes.order_by("-pk").first()
    assert (last.to_stage, last.changed_by) == (Stage.ABANDONED, staff)


def test_the_stage_itself_is_not_an_editable_field(staff: Any) -> None:
    project = RetrofitProject.objects.filter(stage=Stage.DIAGNOSED).first()
    client = _client(staff)
    url = reverse("admin:programmes_retrofitproject_change", args=[project.pk])
    data = _form_data(client.get(url))
    data["stage"] = Stage.ACCEPTED
    assert client.post(url, data).status_code == 302
    project.refresh_from_db()
    assert project.stage == Stage.DIAGNOSED


def test_a_completed_verification_is_read_only_in_the_admin(staff: Any) -> None:
    verification = Verification.objects.filter(status=Verification.Status.COMPLETED).first()
    client = _client(staff)
    url = reverse("admin:programmes_verification_change", args=[verification.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="assessor"' not in html
    level = verification.level
    other = UserFactory(username="someone_else")
    assert client.post(url, {"assessor": other.pk, "visited_on": ""}).status_code == 403
    verification.refresh_from_db()
    assert verification.level == level and verification.assessor_id != other.pk
    delete = reverse("admin:programmes_verification_delete", args=[verification.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Verification.objects.filter(pk=verification.pk).exists()
    answer = VerifiedAnswer.objects.filter(verification=verification).first()
    answer_url = reverse("admin:programmes_verifiedanswer_change", args=[answer.pk])
    assert client.post(answer_url, {"value": '"x"', "reason": "edited"}).status_code == 403


def test_an_open_verification_can_be_reassigned_but_not_its_findings(staff: Any) -> None:
    verification = Verification.objects.get(status=Verification.Status.IN_PROGRESS)
    client = _client(staff)
    url = reverse("admin:programmes_verification_change", args=[verification.pk])
    page = client.get(url)
    data = _form_data(page)
    other = UserFactory(username="second_assessor")
    data["assessor"] = str(other.pk)
    assert client.post(url, data).status_code == 302, _errors(client.post(url, data))
    verification.refresh_from_db()
    assert verification.assessor_id == other.pk
    assert verification.status == Verification.Status.IN_PROGRESS
    assert 'name="answers-0-value"' not in page.content.decode()


@pytest.mark.parametrize(
    "model", [StageChange, ProviderRating, VerifiedAnswer, Evidence], ids=lambda m: m.__name__
)
def test_records_are_append_only_in_the_admin(staff: Any, model: Any) -> None:
    client = _client(staff)
    meta = model._meta
    row = model.objects.order_by("pk").first()
    change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
    assert client.get(change).status_code == 200  # staff may look
    assert client.post(change, {}).status_code == 403
    delete = reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
    assert client.get(add).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_evidence_is_listed_without_a_public_link(staff: Any) -> None:
    item = Evidence.objects.first()
    html = (
        _client(staff)
        .get(reverse("admin:programmes_evidence_change", args=[item.pk]))
        .content.decode()
    )
    assert item.file.name in html
    assert f'href="/private-media-not-served/{item.file.name}"' not in html
    assert "/private-media-not-served/" not in html


def test_the_audit_trail_filters_by_record_type_actor_action_and_date(staff: Any) -> None:
    client = _client(staff)
    url = reverse("admin:auditlog_logentry_changelist")
    assessor_entries = LogEntry.objects.filter(actor__username="demo_assessor")
    assert assessor_entries.exists()  # the demo's findings name their assessor

    def shown(params: dict[str, Any]) -> set[int]:
        response = client.get(url, params)
        assert response.status_code == 200
        return {e.pk for e in response.context["cl"].queryset}

    assert shown({"actor": "demo_assessor"}) == set(assessor_entries.values_list("pk", flat=True))
    assert shown({"actor": "-"}) == set(
        LogEntry.objects.filter(actor__isnull=True).values_list("pk", flat=True)
    )
    assert shown({"actor": "nobody-has-this-name"}) == set()
    answers = ContentType.objects.get_for_model(VerifiedAnswer)
    assert shown({"model": answers.pk}) == set(
        LogEntry.objects.filter(content_type=answers).values_list("pk", flat=True)
    )
    assert shown({"model": "not-a-number"}) == set()
    created = LogEntry.objects.filter(action=LogEntry.Action.CREATE)
    assert shown({"action__exact": LogEntry.Action.CREATE}) == set(
        created.values_list("pk", flat=True)
    )
    assert shown({"timestamp__gte": "2000-01-01 00:00:00+00:00"}) == set(
        LogEntry.objects.values_list("pk", flat=True)
    )
    listing = client.get(url, {"actor": "demo_assessor"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = listing.content.decode()
    assert 'value="demo_assessor"' in html and "项变更" in html


# --- Helpers ----------------------------------------------------------------------------------


def _form_data(page: Any) -> dict[str, Any]:
    """The POST data of an admin change page as it stands (main form and inline formsets)."""
    data: dict[str, Any] = {}
    form = page.context["adminform"].form
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                value = sub[name].value()
                if value is not None:
                    data[sub.add_prefix(name)] = value
    return data


def _errors(response: Any) -> str:
    context = getattr(response, "context", None)
    if not context or "adminform" not in context:
        return ""
    form = context["adminform"].form
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def test_a_project_added_in_the_admin_goes_through_project_create(staff: Any) -> None:
    from clusters.models import Firm
    from programmes.models import Programme, Provider

    programme = Programme.objects.get()
    provider = Provider.objects.first()
    free = (
        Firm.objects.filter(region__path__startswith=programme.region.path)
        .exclude(projects__isnull=False)
        .first()
    )
    outside = Firm.objects.exclude(region__path__startswith=programme.region.path).first()
    client = _client(staff)
    url = reverse("admin:programmes_retrofitproject_add")
    base = {
        "programme": programme.pk,
        "provider": provider.pk,
        "title": "新项目",
        "targeted_questions": '["PE1"]',
    }
    refused = client.post(url, {**base, "firm": outside.pk})
    assert refused.status_code == 200
    assert "the programme's region" in _errors(refused)
    assert not RetrofitProject.objects.filter(firm=outside).exists()
    created = client.post(url, {**base, "firm": free.pk})
    assert created.status_code == 302, _errors(created)
    project = RetrofitProject.objects.get(firm=free)
    assert project.stage == Stage.DIAGNOSED and project.targeted_questions == ["PE1"]
    [change] = project.stage_changes.all()
    assert (change.from_stage, change.to_stage, change.changed_by) == ("", Stage.DIAGNOSED, staff)
