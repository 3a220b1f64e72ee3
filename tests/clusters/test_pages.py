"""HTTP: official pages scoped by the selectors, the import flow, downloads, API, accounts."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from clusters import importing
from clusters.models import Firm, RegisterUpload
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def _csv(*rows: tuple[str, str]) -> bytes:
    return (
        "统一社会信用代码,企业名称,从业人员,营业收入(万元)\n"
        + "".join(f"{code},{name},50,1000\n" for code, name in rows)
    ).encode()


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


# --- Scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clusters:detail", "clusters:import", "clusters:export"])
def test_cluster_pages_are_404_outside_scope(client, world, cluster_official, name):
    _login(client, cluster_official)
    assert client.get(reverse(name, args=["alpha"])).status_code == 200
    assert client.get(reverse(name, args=["beta"])).status_code == 404
    assert client.get(reverse(name, args=["gamma"])).status_code == 404
    assert client.get(reverse(name, args=["no-such"])).status_code == 404


@pytest.mark.parametrize("fixture", ["firm_user", "outsider"])
def test_firm_users_and_outsiders_get_404(client, world, request, fixture):
    _login(client, request.getfixturevalue(fixture))
    assert client.get(reverse("clusters:detail", args=["alpha"])).status_code == 404
    assert client.get(reverse("clusters:template")).status_code == 404
    page = client.get(reverse("clusters:list"))
    assert page.status_code == 200 and b"alpha" not in page.content


def test_anonymous_is_sent_to_log_in(client, world):
    response = client.get(reverse("clusters:detail", args=["alpha"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_regional_official_lists_clusters_of_the_region_only(client, world, regional_official):
    _login(client, regional_official)
    page = client.get(reverse("clusters:list")).content.decode()
    assert world["alpha"].name in page and world["beta"].name in page
    assert world["gamma"].name not in page
    home = client.get(reverse("home")).content.decode()
    assert reverse("clusters:detail", args=["alpha"]) in home
    assert reverse("clusters:detail", args=["gamma"]) not in home


def test_cluster_page_lists_its_firms_with_search_and_filters(client, world, cluster_official):
    _login(client, cluster_official)
    url = reverse("clusters:detail", args=["alpha"])
    firms = world["firms"]["alpha"]
    page = client.get(url).content.decode()
    assert all(f.uscc in page for f in firms)
    assert not any(f.uscc in page for f in world["firms"]["beta"])
    found = client.get(url, {"q": firms[1].uscc.lower()}).content.decode()
    assert firms[1].uscc in found and firms[0].uscc not in found
    firms[2].size_class = "medium"
    firms[2].industry_division = "39"
    firms[2].save()
    sized = client.get(url, {"size": "medium"}).content.decode()
    assert firms[2].uscc in sized and firms[0].uscc not in sized
    by_industry = client.get(url, {"industry": "39"}).content.decode()
    assert firms[2].uscc in by_industry and firms[0].uscc not in by_industry
    in_region = client.get(url, {"region": world["county_a"].pk}).content.decode()
    assert firms[0].uscc in in_region


def test_industry_filter_speaks_the_page_language(client, world, cluster_official):
    _login(client, cluster_official)
    url = reverse("clusters:detail", args=["alpha"])
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "C39 计算机、通信和其他电子设备制造业" in zh
    client.cookies["django_language"] = "en"
    en = client.get(url).content.decode()
    assert "C39 Computers, communication and other electronics" in en
    assert "<th>Credit code</th>" in en
    assert "计算机、通信和其他电子设备制造业" not in en


def test_cluster_page_names_its_lead_industry(client, world, cluster_official):
    world["alpha"].lead_industry = "C39"
    world["alpha"].save()
    _login(client, cluster_official)
    page = client.get(reverse("clusters:detail", args=["alpha"])).content.decode()
    assert "lead industry" not in page and "C39 计算机、通信和其他电子设备制造业</p>" in page


def test_cluster_page_paginates(client, world, cluster_official):
    from tests.factories import FirmFactory, MembershipFactory

    for _ in range(55):
        MembershipFactory(cluster=world["alpha"], firm=FirmFactory())
    _login(client, cluster_official)
    url = reverse("clusters:detail", args=["alpha"])
    first = client.get(url)
    assert len(first.context["page"].object_list) == 50
    second = client.get(url, {"page": 2})
    assert len(second.context["page"].object_list) == 58 - 50


# --- Import flow ------------------------------------------------------------------------------


def test_import_flow_preview_then_commit(client, world, cluster_official):
    _login(client, cluster_official)
    url = reverse("clusters:import", args=["alpha"])
    data = _csv((make_uscc(500), "甲公司"), (make_uscc(501), "乙公司"))
    before = Firm.objects.count()
    preview = client.post(url, {"file": _upload("firms.csv", data)})
    assert preview.status_code == 200
    assert preview.context["checked"].ok and preview.context["checked"].new_count == 2
    assert Firm.objects.count() == before  # the preview writes no firm
    upload = RegisterUpload.objects.get()
    commit = client.post(reverse("clusters:import_commit", args=["alpha", upload.pk]))
    assert commit.status_code == 302
    detail = client.get(commit["Location"]).content.decode()
    assert "firms.csv" in detail  # listed under recent imports
    assert Firm.objects.count() == before + 2
    assert set(
        world["alpha"].firms.filter(name__in=["甲公司", "乙公司"]).values_list("name", flat=True)
    ) == {"甲公司", "乙公司"}
    upload.refresh_from_db()
    assert upload.status == "imported" and upload.created == 2
    # A second commit of the same upload does nothing.
    again = client.post(reverse("clusters:import_commit", args=["alpha", upload.pk]))
    assert again.status_code == 400 and Firm.objects.count() == before + 2


def test_import_preview_lists_row_errors_and_offers_no_commit(client, world, cluster_official):
    _login(client, cluster_official)
    data = _csv((make_uscc(500), "甲公司"), ("91350100M000100Y44", "乙公司"))
    response = client.post(
        reverse("clusters:import", args=["alpha"]),
        {"file": _upload("firms.csv", data)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "第 3 行" in body and "校验码" in body
    assert "/commit/" not in body
    assert RegisterUpload.objects.get().status == "rejected"


def test_commit_revalidates_the_stored_file(client, world, cluster_official):
    """A region removed between preview and commit: the commit refuses and writes nothing."""
    from tests.factories import RegionFactory

    region = RegionFactory(code="350100")
    _login(client, cluster_official)
    data = (
        f"uscc,name,region_code\n{make_uscc(600)},丙公司,350100\n{make_uscc(601)},丁公司,\n"
    ).encode()
    client.post(reverse("clusters:import", args=["alpha"]), {"file": _upload("f.csv", data)})
    upload = RegisterUpload.objects.get()
    assert upload.status == "previewed"
    region.delete()
    before = Firm.objects.count()
    response = client.post(reverse("clusters:import_commit", args=["alpha", upload.pk]))
    assert response.status_code == 400
    assert "350100" in response.content.decode()
    assert Firm.objects.count() == before


def test_commit_of_another_officials_upload_is_404(client, world, cluster_official):
    from tests.factories import OfficialScopeFactory, UserFactory

    colleague = UserFactory(username="colleague")
    OfficialScopeFactory(user=colleague, cluster=world["alpha"])
    _login(client, colleague)
    client.post(
        reverse("clusters:import", args=["alpha"]),
        {"file": _upload("f.csv", _csv((make_uscc(700), "戊公司")))},
    )
    upload = RegisterUpload.objects.get()
    _login(client, cluster_official)
    response = client.post(reverse("clusters:import_commit", args=["alpha", upload.pk]))
    assert response.status_code == 404
    assert not Firm.objects.filter(name="戊公司").exists()


def test_upload_over_10_mb_is_refused_by_the_form(client, world, cluster_official):
    _login(client, cluster_official)
    big = _csv((make_uscc(1), "甲")) + b" " * (importing.MAX_BYTES + 10)
    response = client.post(
        reverse("clusters:import", args=["alpha"]), {"file": _upload("big.csv", big)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not RegisterUpload.objects.exists()


def test_garbage_upload_is_a_clear_error_not_a_500(client, world, cluster_official):
    _login(client, cluster_official)
    response = client.post(
        reverse("clusters:import", args=["alpha"]),
        {"file": _upload("firms.xlsx", b"PK\x03\x04garbage" * 10)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "not a readable XLSX workbook" in response.content.decode()


# --- Downloads --------------------------------------------------------------------------------


def test_template_download_has_both_header_rows_and_instructions(client, world, cluster_official):
    _login(client, cluster_official)
    response = client.get(reverse("clusters:template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("统一社会信用代码", "企业名称")
    assert rows[1][:2] == ("uscc", "name")
    notes = [r[0] for r in book.worksheets[1].iter_rows(values_only=True)]
    assert "revenue_10k_cny" in [r[1] for r in book.worksheets[1].iter_rows(values_only=True)]
    assert len(notes) > len(importing.COLUMNS)


def test_export_lists_scoped_firms_and_imports_back(client, world, cluster_official):
    _login(client, cluster_official)
    response = client.get(reverse("clusters:export", args=["alpha"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="alpha-firms-')
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    codes = {r[0] for r in list(book.worksheets[0].iter_rows(values_only=True))[2:]}
    assert codes == {f.uscc for f in world["firms"]["alpha"]}
    checked = importing.read_register(response.content, "export.xlsx")
    assert checked.ok and checked.update_count == 3


# --- API --------------------------------------------------------------------------------------


def test_api_lists_only_the_users_clusters(client, world, regional_official):
    _login(client, regional_official)
    data = client.get("/api/v1/clusters/").json()
    assert {c["slug"] for c in data["results"]} == {"alpha", "beta"}


def test_api_cluster_firms_is_scoped(client, world, cluster_official):
    _login(client, cluster_official)
    data = client.get("/api/v1/clusters/alpha/firms/").json()
    assert {f["uscc"] for f in data["results"]} == {f.uscc for f in world["firms"]["alpha"]}
    assert client.get("/api/v1/clusters/gamma/firms/").status_code == 404


def test_api_needs_a_login_and_gives_firm_users_nothing(client, world, firm_user):
    assert client.get("/api/v1/clusters/").status_code in (401, 403)
    _login(client, firm_user)
    assert client.get("/api/v1/clusters/").json()["results"] == []
    assert client.get("/api/v1/clusters/alpha/firms/").status_code == 404


# --- Accounts ---------------------------------------------------------------------------------


def test_five_failed_logins_lock_the_account_and_say_so_in_chinese(client, world, firm_user):
    url = reverse("login")
    for _ in range(4):
        response = client.post(url, {"username": "firm_user", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    locked = client.post(url, {"username": "firm_user", "password": "wrong"})
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "登录失败次数过多" in body or "锁定" in body
    # Even the right password is refused while locked.
    right = client.post(url, {"username": "firm_user", "password": "correct-horse-battery"})
    assert right.status_code == 429


def test_lock_out_page_is_all_chinese_and_names_the_configured_wait(
    client, world, firm_user, settings
):
    settings.AXES_COOLOFF_TIME = 0.5  # hours
    url = reverse("login")
    for _ in range(5):
        locked = client.post(url, {"username": "firm_user", "password": "wrong"})
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "For your security" not in body
    assert "请等待 30 分钟" in body


def test_logout_link_typed_in_the_address_bar_offers_the_button(client, world, firm_user):
    """GET /accounts/logout/ was a blank 405; now a page with the log-out button."""
    assert client.get("/accounts/logout/").status_code == 302  # not logged in: to the log-in
    client.force_login(firm_user)
    page = client.get("/accounts/logout/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "确定要退出 Gradient 吗？" in page.content.decode()
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(reverse("home")).status_code == 302  # logged out


def test_a_good_login_still_works(client, world, firm_user):
    response = client.post(
        reverse("login"), {"username": "firm_user", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302


def test_password_reset_sends_a_working_link(client, world, firm_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page = client.get(reverse("password_reset"))
    assert page.status_code == 200 and "重置" in page.content.decode()
    response = client.post(reverse("password_reset"), {"email": "firm_user@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    confirm = client.get(link, follow=True)
    assert confirm.status_code == 200 and confirm.context["validlink"]
    done = client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase-42", "new_password2": "a-new-long-passphrase-42"},
    )
    assert done.status_code == 302
    firm_user.refresh_from_db()
    assert firm_user.check_password("a-new-long-passphrase-42")


def test_export_writes_names_that_look_like_formulas_as_text(client, world, cluster_official):
    firm = world["firms"]["alpha"][0]
    firm.name = '=HYPERLINK("http://example.com","x")'
    firm.save()
    _login(client, cluster_official)
    response = client.get(reverse("clusters:export", args=["alpha"]))
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = [row[1] for row in sheet.iter_rows(min_row=3) if row[0].value == firm.uscc]
    assert cells[0].value == firm.name and cells[0].data_type == "s"


def test_register_admin_labels_are_chinese(client, world, staff_user):
    client.force_login(staff_user)
    firm = world["firms"]["alpha"][0]
    html = client.get(
        reverse("admin:clusters_firm_change", args=[firm.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    for english in ("Created at", "Updated at", ">Region:"):
        assert english not in html
    assert "创建时间" in html
