"""Register import stays inside the importer's scope (issue 8, part 1).

An official may change only firms they already see. A row whose code belongs to a firm outside
their scope is refused at commit, the whole import with it, and nothing of that firm changes.
The preview cannot tell such a code from one that is nowhere in the register.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from clusters import services
from clusters.models import ClusterMembership, Firm, RegisterUpload
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db

NOWHERE = make_uscc(987_654)  # a valid code that no firm in the test register has


def _csv(code: str, name: str = "改名后的公司", employees: int = 4321) -> bytes:
    return (
        f"统一社会信用代码,企业名称,从业人员,营业收入(万元)\n{code},{name},{employees},777\n"
    ).encode()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("firms.csv", data, content_type="text/csv")


def _state(firm: Firm) -> tuple[object, ...]:
    firm.refresh_from_db()
    return (
        firm.name,
        firm.employees,
        firm.revenue_10k_cny,
        firm.size_class,
        firm.updated_at,
        sorted(firm.memberships.values_list("cluster__slug", flat=True)),
    )


def _preview(client, slug: str, data: bytes):
    response = client.post(reverse("clusters:import", args=[slug]), {"file": _upload(data)})
    assert response.status_code == 200
    return response, RegisterUpload.objects.latest("pk")


def test_out_of_scope_firm_is_unchanged_and_the_row_refused(client, world, cluster_official):
    outside = world["firms"]["gamma"][0]  # only in gamma; the official oversees alpha
    before = _state(outside)
    firms_before = Firm.objects.count()
    client.force_login(cluster_official)
    _response, upload = _preview(client, "alpha", _csv(outside.uscc))
    commit = client.post(reverse("clusters:import_commit", args=["alpha", upload.pk]))
    assert commit.status_code == 400
    assert _state(outside) == before  # name, figures, size class, clusters: all as they were
    assert Firm.objects.count() == firms_before
    assert not ClusterMembership.objects.filter(cluster=world["alpha"], firm=outside).exists()
    text = commit.content.decode()
    # The row and the column are named; the message says what to do, not where the firm is.
    assert "第 2 行" in text and "统一社会信用代码" in text and "管理员" in text
    assert "gamma" not in text and outside.name not in text
    upload.refresh_from_db()
    assert upload.status == RegisterUpload.Status.PREVIEWED  # nothing imported
    (problem,) = commit.context["commit_problems"]
    assert (problem.row, problem.column) == (2, "统一社会信用代码 (A)")


def test_service_refuses_an_out_of_scope_code_for_the_acting_user(world, cluster_official):
    outside = world["firms"]["gamma"][0]
    before = _state(outside)
    with translation.override("en"):
        with pytest.raises(services.ImportRejected) as err:
            services.register_import(
                cluster=world["alpha"],
                data=_csv(outside.uscc),
                filename="firms.csv",
                user=cluster_official,
            )
        (message,) = [str(p) for p in err.value.problems]
    assert message.startswith("Row 2, column 统一社会信用代码 (A): ")
    assert "administrator" in message
    assert _state(outside) == before


def _normalised(html: str, code: str, upload_id: int) -> str:
    html = html.replace(code, "CODE")
    html = re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF-TOKEN", html)  # the page's CSRF tokens
    return html.replace(f"/import/{upload_id}/", "/import/ID/")


def test_preview_is_the_same_for_an_out_of_scope_code_and_an_unknown_one(
    client, world, cluster_official
):
    outside = world["firms"]["gamma"][0]
    client.force_login(cluster_official)
    seen_outside, upload_outside = _preview(client, "alpha", _csv(outside.uscc))
    seen_nowhere, upload_nowhere = _preview(client, "alpha", _csv(NOWHERE))
    for response in (seen_outside, seen_nowhere):
        checked = response.context["checked"]
        assert checked.ok and checked.new_count == 1 and checked.update_count == 0
    assert _normalised(seen_outside.content.decode(), outside.uscc, upload_outside.pk) == (
        _normalised(seen_nowhere.content.decode(), NOWHERE, upload_nowhere.pk)
    )
    assert upload_outside.rows == upload_nowhere.rows == 1


def test_in_scope_firm_is_still_updated(client, world, cluster_official):
    inside = world["firms"]["alpha"][0]
    client.force_login(cluster_official)
    response, upload = _preview(client, "alpha", _csv(inside.uscc, name="新名称有限公司"))
    assert response.context["checked"].update_count == 1
    assert response.context["checked"].new_count == 0
    commit = client.post(reverse("clusters:import_commit", args=["alpha", upload.pk]))
    assert commit.status_code == 302
    inside.refresh_from_db()
    assert (inside.name, inside.employees) == ("新名称有限公司", 4321)
    upload.refresh_from_db()
    assert (upload.created, upload.updated, upload.joined) == (0, 1, 0)


def test_regional_official_updates_a_firm_of_their_region_and_adds_it(
    client, world, regional_official
):
    # A firm of beta (in the official's province) is in scope: it is updated and joins alpha.
    firm = world["firms"]["beta"][0]
    client.force_login(regional_official)
    response, upload = _preview(client, "alpha", _csv(firm.uscc, name="区域内公司"))
    assert response.context["checked"].update_count == 1
    commit = client.post(reverse("clusters:import_commit", args=["alpha", upload.pk]))
    assert commit.status_code == 302
    firm.refresh_from_db()
    assert firm.name == "区域内公司"
    assert sorted(firm.memberships.values_list("cluster__slug", flat=True)) == ["alpha", "beta"]


def test_mixed_file_is_all_or_nothing(client, world, cluster_official):
    inside, outside = world["firms"]["alpha"][0], world["firms"]["gamma"][0]
    inside_before, outside_before = _state(inside), _state(outside)
    data = (
        "统一社会信用代码,企业名称,从业人员\n"
        f"{NOWHERE},全新公司,5\n{inside.uscc},改名甲,6\n{outside.uscc},改名乙,7\n"
    ).encode()
    client.force_login(cluster_official)
    response, upload = _preview(client, "alpha", data)
    checked = response.context["checked"]
    assert (checked.new_count, checked.update_count) == (2, 1)
    commit = client.post(reverse("clusters:import_commit", args=["alpha", upload.pk]))
    assert commit.status_code == 400
    assert "第 4 行" in commit.content.decode()
    assert _state(inside) == inside_before and _state(outside) == outside_before
    assert not Firm.objects.filter(uscc=NOWHERE).exists()


def test_command_runs_as_the_operator_and_still_updates_any_firm(world, tmp_path, capsys):
    outside = world["firms"]["gamma"][0]
    path = tmp_path / "firms.csv"
    path.write_bytes(_csv(outside.uscc, name="运营者改名"))
    call_command("import_firms", "alpha", str(path), "--language", "en")
    assert "1 updated, 1 added to cluster alpha" in capsys.readouterr().out
    outside.refresh_from_db()
    assert outside.name == "运营者改名"
    assert sorted(outside.memberships.values_list("cluster__slug", flat=True)) == [
        "alpha",
        "gamma",
    ]
    # The operator's full rights are asked for by name; no user at all sees no firm.
    other = world["firms"]["beta"][0]
    with pytest.raises(services.ImportRejected):
        services.register_import(
            cluster=world["alpha"], data=_csv(other.uscc), filename="f.csv", user=None
        )
    outcome = services.register_import(
        cluster=world["alpha"], data=_csv(other.uscc), filename="f.csv", user=services.OPERATOR
    )
    assert outcome.updated == 1
