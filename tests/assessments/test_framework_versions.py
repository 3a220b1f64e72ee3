"""Tier 2: framework version services, the immutability guard and the admin (database)."""

from __future__ import annotations

import dataclasses

import pytest
from django.urls import reverse

from assessments.framework import load_framework_file, parse_framework
from assessments.models import Framework, FrameworkVersion
from assessments.versions import (
    FrameworkVersionConflict,
    content_hash,
    framework_for,
    framework_version_load,
    framework_version_publish,
)
from tests.assessments.engine_fixtures import FIXTURES, base

pytestmark = pytest.mark.django_db

EXAMPLE = load_framework_file(FIXTURES / "example.yaml")


def changed(fw: object, **top: object) -> object:
    """The example with a changed top-level key, re-parsed."""
    definition = {**fw.definition, **top}  # type: ignore[attr-defined]
    return parse_framework(definition)


def test_load_creates_the_framework_and_a_published_version() -> None:
    version, status = framework_version_load(EXAMPLE)
    assert status == "created"
    assert version.framework.slug == "demo"
    assert version.framework.title == {"zh-hans": "演示框架", "en": "Demo framework"}
    assert version.version == "1" and version.is_published and version.published_at
    assert version.definition == EXAMPLE.definition
    assert version.content_hash == content_hash(EXAMPLE.definition)
    assert len(version.content_hash) == 64


def test_content_hash_is_canonical() -> None:
    a = {"b": 1, "a": [1, {"y": "中", "x": 2}]}
    b = {"a": [1, {"x": 2, "y": "中"}], "b": 1}
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**a, "b": 2})


def test_load_is_idempotent() -> None:
    first, _ = framework_version_load(EXAMPLE)
    again, status = framework_version_load(load_framework_file(FIXTURES / "example.yaml"))
    assert status == "unchanged" and again.pk == first.pk
    assert FrameworkVersion.objects.count() == 1 and Framework.objects.count() == 1


def test_load_refuses_to_change_a_published_version_naming_it() -> None:
    framework_version_load(EXAMPLE)
    with pytest.raises(FrameworkVersionConflict) as info:
        framework_version_load(changed(EXAMPLE, title="Another title"))
    assert str(info.value) == (
        "demo 1 is published and its content differs; publish a new version instead"
    )
    assert FrameworkVersion.objects.get().definition == EXAMPLE.definition


def test_a_new_version_sits_beside_the_published_one() -> None:
    framework_version_load(EXAMPLE)
    version, status = framework_version_load(changed(EXAMPLE, version="2"))
    assert status == "created"
    assert list(FrameworkVersion.objects.values_list("version", flat=True)) == ["1", "2"]


def test_a_draft_may_be_replaced_then_published() -> None:
    draft, status = framework_version_load(EXAMPLE, publish=False)
    assert status == "created" and not draft.is_published
    replaced, status = framework_version_load(changed(EXAMPLE, title="Draft two"), publish=False)
    assert status == "updated" and replaced.pk == draft.pk
    replaced.refresh_from_db()
    assert replaced.definition["title"] == "Draft two" and not replaced.is_published
    _, status = framework_version_load(changed(EXAMPLE, title="Draft two"))
    assert status == "updated"
    replaced.refresh_from_db()
    assert replaced.is_published


def test_publish_is_idempotent() -> None:
    version, _ = framework_version_load(EXAMPLE, publish=False)
    framework_version_publish(version)
    stamp = version.published_at
    framework_version_publish(version)
    version.refresh_from_db()
    assert version.is_published and version.published_at == stamp


def test_framework_for_parses_and_caches() -> None:
    version, _ = framework_version_load(EXAMPLE)
    fw = framework_for(version)
    assert fw == EXAMPLE
    assert framework_for(FrameworkVersion.objects.get(pk=version.pk)) is fw


def test_framework_for_follows_a_replaced_draft() -> None:
    version, _ = framework_version_load(EXAMPLE, publish=False)
    first = framework_for(version)
    framework_version_load(changed(EXAMPLE, title="Replaced"), publish=False)
    version.refresh_from_db()
    assert framework_for(version) is not first
    assert framework_for(version).title == {"zh-hans": "Replaced", "en": "Replaced"}


# --- The model's guard (defence in depth) ----------------------------------------------------


def test_the_guard_refuses_to_save_changed_content_of_a_published_version() -> None:
    version, _ = framework_version_load(EXAMPLE)
    version.definition = {**version.definition, "title": "Edited"}
    with pytest.raises(FrameworkVersion.ImmutableError, match="demo 1 is published"):
        version.save()
    version = FrameworkVersion.objects.get(pk=version.pk)
    version.content_hash = "0" * 64
    with pytest.raises(FrameworkVersion.ImmutableError):
        version.save()


def test_the_guard_refuses_to_unpublish() -> None:
    version, _ = framework_version_load(EXAMPLE)
    version.status = FrameworkVersion.Status.DRAFT
    with pytest.raises(FrameworkVersion.ImmutableError, match="cannot return to draft"):
        version.save()


def test_the_guard_refuses_to_delete_a_published_version() -> None:
    version, _ = framework_version_load(EXAMPLE)
    with pytest.raises(FrameworkVersion.ImmutableError, match="cannot be deleted"):
        version.delete()
    assert FrameworkVersion.objects.filter(pk=version.pk).exists()


def test_the_guard_lets_other_fields_and_drafts_change() -> None:
    version, _ = framework_version_load(EXAMPLE)
    version.source = "A corrected citation"  # not part of the scored content
    version.save()
    draft, _ = framework_version_load(changed(EXAMPLE, version="2"), publish=False)
    draft.definition = {**draft.definition, "title": "Edited draft"}
    draft.content_hash = content_hash(draft.definition)
    draft.save()
    draft.delete()
    assert not FrameworkVersion.objects.filter(version="2").exists()


def test_a_published_version_needs_a_matching_hash() -> None:
    framework, _ = Framework.objects.get_or_create(slug="demo")
    with pytest.raises(FrameworkVersion.ImmutableError, match="does not match"):
        FrameworkVersion.objects.create(
            framework=framework,
            version="9",
            definition=EXAMPLE.definition,
            content_hash="0" * 64,
            status=FrameworkVersion.Status.PUBLISHED,
        )


# --- Admin -----------------------------------------------------------------------------------


@pytest.fixture
def published(db: None) -> FrameworkVersion:
    return framework_version_load(EXAMPLE)[0]


def test_admin_lists_and_searches_versions(client, staff_user, published) -> None:  # noqa: ANN001
    client.force_login(staff_user)
    url = reverse("admin:assessments_frameworkversion_changelist")
    page = client.get(url, {"q": "demo"})
    assert page.status_code == 200 and "demo 1" in page.content.decode()
    page = client.get(url, {"status__exact": "draft"})
    assert "demo 1" not in page.content.decode()


def test_admin_shows_a_published_version_read_only(client, staff_user, published) -> None:  # noqa: ANN001
    client.force_login(staff_user)
    url = reverse("admin:assessments_frameworkversion_change", args=[published.pk])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="_save"' not in html  # view only
    for expected in ("B1", "B2", "O3", "policy", "L3", "已采取的网络安全措施"):
        assert expected in html
    assert "demo 1" in html
    response = client.post(url, {"version": "2"})
    assert response.status_code == 403
    delete = reverse("admin:assessments_frameworkversion_delete", args=[published.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    published.refresh_from_db()
    assert published.version == "1" and published.is_published


def test_admin_cannot_bulk_delete_a_published_version(client, staff_user, published) -> None:  # noqa: ANN001
    client.force_login(staff_user)
    url = reverse("admin:assessments_frameworkversion_changelist")
    client.post(
        url, {"action": "delete_selected", "_selected_action": [published.pk], "post": "yes"}
    )
    assert FrameworkVersion.objects.filter(pk=published.pk).exists()


def test_admin_publishes_drafts_with_an_action(client, staff_user) -> None:  # noqa: ANN001
    draft, _ = framework_version_load(EXAMPLE, publish=False)
    client.force_login(staff_user)
    url = reverse("admin:assessments_frameworkversion_changelist")
    client.post(url, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_published


def test_admin_summary_shows_gates_and_bands(client, staff_user) -> None:  # noqa: ANN001
    data = base()
    version, _ = framework_version_load(parse_framework(data))
    client.force_login(staff_user)
    html = client.get(
        reverse("admin:assessments_frameworkversion_change", args=[version.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "total score ≥ 60" in html
    assert "at least 1 questions tagged “scene” with attainment ≥ 1" in html
    assert "up to 10 → 0" in html and "above 50 → 5" in html
    assert "answer to Y is one of: yes" in html


def test_admin_framework_list(client, staff_user, published) -> None:  # noqa: ANN001
    client.force_login(staff_user)
    page = client.get(reverse("admin:assessments_framework_changelist"))
    assert page.status_code == 200 and "demo" in page.content.decode()
    assert client.get(reverse("admin:assessments_framework_add")).status_code == 403


def test_frameworks_compare_equal_after_a_round_trip() -> None:
    version, _ = framework_version_load(EXAMPLE)
    assert dataclasses.asdict(framework_for(version))["slug"] == "demo"
