"""HTTP: the programme, project and provider pages, the rating, and the links into them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from programmes import services
from programmes.models import (
    Provider,
    ProviderMember,
    ProviderRating,
    RetrofitProject,
    Verification,
)
from tests.factories import ProviderFactory, UserFactory
from tests.programmes.scene import Scene, build

pytestmark = pytest.mark.django_db
Stage = RetrofitProject.Stage


@pytest.fixture
def scene(world: dict[str, Any]) -> Scene:
    return build(world)


def _client(user: Any, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _project(scene: Scene, user: Any, firm: Any = None, **kwargs: Any) -> RetrofitProject:
    firm = firm or scene.firm_a
    kwargs.setdefault("baseline", scene.baseline_a if firm == scene.firm_a else scene.baseline_b)
    return services.project_create(
        scene.programme, firm=firm, provider=scene.provider, user=user, **kwargs
    )


def _accept(project: RetrofitProject, scene: Scene, user: Any) -> RetrofitProject:
    services.project_link(project, user=user, acceptance=scene.acceptance_a)
    return services.project_move(project, Stage.ACCEPTED, user=user)


# --- Programme list and page ------------------------------------------------------------------


def test_programme_list_shows_the_regions_programmes(scene: Scene, regional_official: Any):
    response = _client(regional_official).get(reverse("programmes:list"))
    assert response.status_code == 200
    assert scene.programme.name_zh in _text(response)


def test_cluster_official_sees_a_programme_through_a_project_of_their_firm(
    scene: Scene, regional_official: Any, cluster_official: Any
):
    url = reverse("programmes:list")
    assert scene.programme.name_zh not in _text(_client(cluster_official).get(url))
    _project(scene, regional_official)
    assert scene.programme.name_zh in _text(_client(cluster_official).get(url))


def test_programme_list_empty_state_says_why(outsider: Any):
    response = _client(outsider, "en").get(reverse("programmes:list"))
    assert "You follow no transformation programme yet" in _text(response)


def test_programme_page_counts_firms_by_stage_and_lists_projects(
    scene: Scene, regional_official: Any
):
    a = _project(scene, regional_official)
    services.project_move(a, Stage.CONTRACTED, user=regional_official)
    _project(scene, regional_official, firm=scene.firm_b)
    response = _client(regional_official, "en").get(
        reverse("programmes:detail", args=[scene.programme.pk])
    )
    assert response.status_code == 200
    counts = {c.stage: c.count for c in response.context["counts"]}
    assert counts[Stage.CONTRACTED] == 1 and counts[Stage.DIAGNOSED] == 1
    assert counts[Stage.ACCEPTED] == 0
    body = _text(response)
    assert scene.firm_a.name in body and scene.firm_b.name in body
    assert scene.provider.name in body
    assert "New project" in body


def test_programme_page_filters_by_stage_provider_and_search(scene: Scene, regional_official: Any):
    a = _project(scene, regional_official)
    services.project_move(a, Stage.CONTRACTED, user=regional_official)
    other = ProviderFactory(name="服务商乙", region=scene.world["province_a"])
    services.project_create(
        scene.programme,
        firm=scene.firm_b,
        provider=other,
        user=regional_official,
        baseline=scene.baseline_b,
    )
    url = reverse("programmes:detail", args=[scene.programme.pk])
    client = _client(regional_official)

    def firms(**query: Any) -> set[str]:
        rows = client.get(url, query).context["rows"]
        return {row.project.firm.name for row in rows}

    assert firms() == {scene.firm_a.name, scene.firm_b.name}
    assert firms(stage="contracted") == {scene.firm_a.name}
    assert firms(provider=other.pk) == {scene.firm_b.name}
    assert firms(q=scene.firm_b.name[-3:]) == {scene.firm_b.name}
    assert firms(q=scene.firm_a.uscc.lower()) == {scene.firm_a.name}
    assert firms(stage="accepted") == set()
    assert "No project matches these filters" in _text(
        _client(regional_official, "en").get(url, {"stage": "accepted"})
    )


def test_progress_counts_accepted_firms_at_target_verified_level_first(
    scene: Scene, regional_official: Any
):
    project = _accept(_project(scene, regional_official), scene, regional_official)
    assert scene.acceptance_a.level_rank >= 1  # L2 or above: the target
    url = reverse("programmes:detail", args=[scene.programme.pk])
    progress = _client(regional_official).get(url).context["progress"]
    assert (progress.reached, progress.accepted, progress.target_firms) == (1, 1, 3)
    assert progress.share == 33
    # An on-site verification that places the firm at L1 overrides the self-report.
    Verification.objects.create(
        assessment=project.acceptance,
        assessor=regional_official,
        status=Verification.Status.COMPLETED,
        completed_at=timezone.now(),
        level="L1",
        level_rank=0,
    )
    progress = _client(regional_official).get(url).context["progress"]
    assert (progress.reached, progress.reached_verified, progress.accepted) == (0, 0, 1)
    body = _text(_client(regional_official, "en").get(url))
    assert "0 of 3 firms (0%) have reached it after acceptance." in body


def test_programme_page_is_404_outside_scope(scene: Scene, world: dict[str, Any]):
    from tests.factories import OfficialScopeFactory

    official_b = UserFactory(username="official_b")
    OfficialScopeFactory(user=official_b, region=world["province_b"])
    url = reverse("programmes:detail", args=[scene.programme.pk])
    assert _client(official_b).get(url).status_code == 404


# --- Creating a project -----------------------------------------------------------------------


def test_project_create_searches_firms_of_the_region(scene: Scene, regional_official: Any):
    url = reverse("programmes:project_create", args=[scene.programme.pk])
    client = _client(regional_official)
    found = client.get(url, {"q": scene.firm_a.uscc}).context["found"]
    assert found == [scene.firm_a]
    outside = scene.world["firms"]["gamma"][0]
    assert client.get(url, {"q": outside.name}).context["found"] == []


def test_project_create_offers_the_firms_submitted_baselines_and_creates(
    scene: Scene, regional_official: Any
):
    url = reverse("programmes:project_create", args=[scene.programme.pk])
    client = _client(regional_official)
    page = client.get(url, {"firm": scene.firm_a.pk})
    offered = [value for value, _label in page.context["form"]["baseline"].field.widget.choices]
    assert offered[1:] == [scene.acceptance_a.pk, scene.baseline_a.pk]  # newest first
    codes = [q.code for q in scene.fw.questions][:2]
    response = client.post(
        url,
        {
            "firm": scene.firm_a.pk,
            "baseline": scene.baseline_a.pk,
            "provider": scene.provider.pk,
            "title": "设备联网改造",
            "targeted_questions": codes,
            "starts_on": "2026-03-01",
            "ends_on": "2026-09-30",
            "budget_10k_cny": "80",
            "subsidy_10k_cny": "30",
        },
    )
    project = RetrofitProject.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("programmes:project", args=[project.pk])
    assert (project.firm, project.baseline, project.title) == (
        scene.firm_a,
        scene.baseline_a,
        "设备联网改造",
    )
    assert project.targeted_questions == codes
    assert project.stage_changes.get().changed_by == regional_official


def test_project_create_shows_rule_errors_next_to_the_field_in_chinese(
    scene: Scene, regional_official: Any
):
    url = reverse("programmes:project_create", args=[scene.programme.pk])
    client = _client(regional_official)
    response = client.post(
        url,
        {
            "firm": scene.firm_a.pk,
            "baseline": scene.baseline_a.pk,
            "provider": scene.provider.pk,
            "budget_10k_cny": "10",
            "subsidy_10k_cny": "20",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["subsidy_10k_cny"]
    with translation.override("zh-hans"):
        expected = _("The subsidy (%(subsidy)s) is larger than the budget (%(budget)s).")
    assert errors["subsidy_10k_cny"] == [expected % {"subsidy": "20", "budget": "10"}]
    _project(scene, regional_official)
    response = client.post(url, {"firm": scene.firm_a.pk, "provider": scene.provider.pk})
    assert response.status_code == 400
    assert "firm" in response.context["form"].errors
    assert RetrofitProject.objects.count() == 1


def test_project_create_refuses_a_firm_outside_the_region(scene: Scene, regional_official: Any):
    outside = scene.world["firms"]["gamma"][0]
    url = reverse("programmes:project_create", args=[scene.programme.pk])
    response = _client(regional_official).post(
        url, {"firm": outside.pk, "provider": scene.provider.pk}
    )
    assert response.status_code == 200
    assert response.context["firm"] is None and response.context["firm_error"]
    assert not RetrofitProject.objects.exists()


def test_only_the_programmes_officials_may_create(scene: Scene, cluster_official: Any):
    url = reverse("programmes:project_create", args=[scene.programme.pk])
    assert _client(cluster_official).get(url).status_code == 404


# --- The project page -------------------------------------------------------------------------


def test_project_page_read_only_for_the_cluster_official(
    scene: Scene, regional_official: Any, cluster_official: Any
):
    project = _project(scene, regional_official)
    url = reverse("programmes:project", args=[project.pk])
    manager = _client(regional_official).get(url)
    reader = _client(cluster_official).get(url)
    assert manager.context["move_form"] is not None
    assert "move_form" not in reader.context and "acceptance_form" not in reader.context
    assert reverse("programmes:project_move", args=[project.pk]) not in reader.content.decode()
    move = _client(cluster_official).post(
        reverse("programmes:project_move", args=[project.pk]), {"to_stage": "contracted"}
    )
    assert move.status_code == 404
    project.refresh_from_db()
    assert project.stage == Stage.DIAGNOSED


def test_project_page_shows_the_stage_history_with_who_and_when(
    scene: Scene, regional_official: Any
):
    project = _project(scene, regional_official)
    client = _client(regional_official, "en")
    response = client.post(
        reverse("programmes:project_move", args=[project.pk]),
        {"to_stage": "contracted", "note": "合同已签"},
    )
    assert response.status_code == 302
    body = _text(client.get(reverse("programmes:project", args=[project.pk])))
    assert "Diagnosed → Contracted" in body
    assert "合同已签" in body
    assert regional_official.get_username() in body


def test_move_offers_only_next_stages(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    services.project_move(project, Stage.IN_PROGRESS, user=regional_official)
    client = _client(regional_official)
    page = client.get(reverse("programmes:project", args=[project.pk]))
    offered = [v for v, _ in page.context["move_form"].fields["to_stage"].choices]
    assert offered == [Stage.DELIVERED, Stage.ACCEPTED, Stage.ABANDONED]
    response = client.post(
        reverse("programmes:project_move", args=[project.pk]), {"to_stage": "contracted"}
    )
    assert response.status_code == 400
    project.refresh_from_db()
    assert project.stage == Stage.IN_PROGRESS


def test_accepting_without_acceptance_says_so_in_the_users_language(
    scene: Scene, regional_official: Any
):
    project = _project(scene, regional_official)
    response = _client(regional_official, "en").post(
        reverse("programmes:project_move", args=[project.pk]), {"to_stage": "accepted"}
    )
    assert response.status_code == 400
    assert "Link the acceptance assessment first" in _text(response)
    zh = _client(regional_official).post(
        reverse("programmes:project_move", args=[project.pk]), {"to_stage": "accepted"}
    )
    with translation.override("zh-hans"):
        expected = _("Link the acceptance assessment first: a project is accepted on a new rating.")
    assert expected in zh.content.decode()
    assert list(zh.context["move_form"].non_field_errors()) == [expected]
    project.refresh_from_db()
    assert project.stage == Stage.DIAGNOSED


def test_link_acceptance_then_accept(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    client = _client(regional_official)
    response = client.post(
        reverse("programmes:project_link", args=[project.pk]),
        {"role": "acceptance", "acceptance-assessment": scene.acceptance_a.pk},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.acceptance == scene.acceptance_a
    client.post(reverse("programmes:project_move", args=[project.pk]), {"to_stage": "accepted"})
    project.refresh_from_db()
    assert project.stage == Stage.ACCEPTED


def test_link_refuses_another_firms_assessment_next_to_the_field(
    scene: Scene, regional_official: Any
):
    project = _project(scene, regional_official)
    response = _client(regional_official).post(
        reverse("programmes:project_link", args=[project.pk]),
        {"role": "acceptance", "acceptance-assessment": scene.baseline_b.pk},
    )
    assert response.status_code == 400
    assert response.context["acceptance_form"].errors["assessment"]
    project.refresh_from_db()
    assert project.acceptance_id is None


def test_edit_details(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    url = reverse("programmes:project_edit", args=[project.pk])
    client = _client(regional_official)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "provider": scene.provider.pk,
            "title": "新标题",
            "budget_10k_cny": "5",
            "subsidy_10k_cny": "9",
        },
    )
    assert response.status_code == 400
    assert "subsidy_10k_cny" in response.context["form"].errors
    response = client.post(url, {"provider": scene.provider.pk, "title": "新标题"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "新标题"


# --- The firm rates its provider --------------------------------------------------------------


def test_firm_rates_its_provider_once_after_acceptance(
    scene: Scene, regional_official: Any, firm_user: Any
):
    project = _project(scene, regional_official)
    url = reverse("programmes:project", args=[project.pk])
    client = _client(firm_user)
    assert "rating_form" not in client.get(url).context
    _accept(project, scene, regional_official)
    assert client.get(url).context["rating_form"] is not None
    rate = reverse("programmes:project_rate", args=[project.pk])
    assert client.post(rate, {"score": "9"}).status_code == 400
    assert client.post(rate, {"score": "4", "comment": "交付及时"}).status_code == 302
    rating = ProviderRating.objects.get()
    assert (rating.score, rating.comment, rating.rated_by) == (4, "交付及时", firm_user)
    page = client.get(url)
    assert "rating_form" not in page.context
    assert "交付及时" in _text(page)
    again = client.post(rate, {"score": "5"})
    assert again.status_code == 400
    assert ProviderRating.objects.get().score == 4


def test_another_firm_and_officials_cannot_rate(
    scene: Scene, regional_official: Any, other_firm_user: Any
):
    project = _accept(_project(scene, regional_official), scene, regional_official)
    rate = reverse("programmes:project_rate", args=[project.pk])
    assert _client(other_firm_user).post(rate, {"score": "3"}).status_code == 404
    assert _client(regional_official).post(rate, {"score": "3"}).status_code == 404
    assert not ProviderRating.objects.exists()


def test_firm_home_links_to_the_project_and_asks_for_the_rating(
    scene: Scene, regional_official: Any, firm_user: Any
):
    project = _accept(_project(scene, regional_official), scene, regional_official)
    body = _text(_client(firm_user, "en").get(reverse("home")))
    assert reverse("programmes:project", args=[project.pk]) in body
    assert "Rate your provider" in body


# --- Providers --------------------------------------------------------------------------------


def test_provider_create_validates_the_credit_code_like_firms(scene: Scene, regional_official: Any):
    from clusters import uscc
    from clusters.validators import uscc_message
    from tests.factories import make_uscc

    url = reverse("programmes:provider_create")
    client = _client(regional_official, "en")
    good = make_uscc(555_555)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = client.post(
        url,
        {
            "uscc": bad,
            "name": "坏代码服务商",
            "kind": "integrator",
            "region": scene.world["city_a"].pk,
        },
    )
    assert response.status_code == 400
    from django.utils import translation

    with translation.override("en"):
        expected = uscc_message(uscc.problem(bad))
    assert response.context["form"].errors["uscc"] == [expected]
    response = client.post(
        url,
        {
            "uscc": good.lower(),
            "name": "新服务商",
            "kind": "product",
            "region": scene.world["city_a"].pk,
            "regions_served": [scene.world["county_a"].pk],
            "contact_phone": "13812345678",
        },
    )
    provider = Provider.objects.get(uscc=good)
    assert response.status_code == 302
    assert provider.region == scene.world["city_a"]
    assert list(provider.regions_served.all()) == [scene.world["county_a"]]


def test_provider_edit_only_for_its_registers_officials(
    scene: Scene, regional_official: Any, cluster_official: Any
):
    url = reverse("programmes:provider_edit", args=[scene.provider.pk])
    assert _client(cluster_official).get(url).status_code == 404
    data = {
        "uscc": scene.provider.uscc,
        "name": "改名服务商",
        "kind": "chain_leader",
        "region": scene.world["province_a"].pk,
    }
    assert _client(regional_official).post(url, data).status_code == 302
    scene.provider.refresh_from_db()
    assert (scene.provider.name, scene.provider.kind) == ("改名服务商", "chain_leader")


def test_provider_page_lists_its_visible_projects_and_a_scorecard_placeholder(
    scene: Scene, regional_official: Any
):
    _project(scene, regional_official)
    body = _text(
        _client(regional_official, "en").get(
            reverse("programmes:provider", args=[scene.provider.pk])
        )
    )
    assert scene.firm_a.name in body
    assert "not available on this page yet" in body


def test_provider_user_sees_our_projects_read_only(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    staff_of_k = UserFactory(username="provider_staff")
    ProviderMember.objects.create(user=staff_of_k, provider=scene.provider)
    client = _client(staff_of_k)
    listing = client.get(reverse("programmes:my_projects"))
    assert [row.project for row in listing.context["rows"]] == [project]
    page = client.get(reverse("programmes:project", args=[project.pk]))
    assert page.status_code == 200
    assert "move_form" not in page.context and "rating_form" not in page.context
    other = ProviderFactory(region=scene.world["province_a"])
    assert client.get(reverse("programmes:provider", args=[other.pk])).status_code == 404
    assert client.get(reverse("programmes:provider_create")).status_code == 404


# --- Links ------------------------------------------------------------------------------------


def test_firm_file_lists_the_firms_projects(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    body = _text(
        _client(regional_official).get(reverse("reports:firm_file", args=[scene.firm_a.pk]))
    )
    assert reverse("programmes:project", args=[project.pk]) in body
    assert scene.provider.name in body


def test_home_and_dashboard_link_to_programmes_for_officials(
    scene: Scene, regional_official: Any, cluster_official: Any
):
    home = _text(_client(regional_official).get(reverse("home")))
    assert reverse("programmes:detail", args=[scene.programme.pk]) in home
    dashboard = reverse("report-dashboard", args=[scene.world["alpha"].slug])
    assert reverse("programmes:list") in _text(_client(regional_official).get(dashboard))
    # The cluster official sees no programme until a firm of theirs has a project.
    assert reverse("programmes:list") not in _text(_client(cluster_official).get(dashboard))


def test_pages_render_in_english_without_untranslated_chinese_labels(
    scene: Scene, regional_official: Any
):
    project = _project(scene, regional_official)
    client = _client(regional_official, "en")
    for url in (
        reverse("programmes:list"),
        reverse("programmes:detail", args=[scene.programme.pk]),
        reverse("programmes:project", args=[project.pk]),
        reverse("programmes:providers"),
        reverse("programmes:provider_import"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert dt.date.today() is not None
