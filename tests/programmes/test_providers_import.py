"""The provider register import: the template, preview naming rows and columns, all or nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from programmes import importing, register
from programmes.models import Provider
from tests.factories import ProviderFactory, make_uscc

pytestmark = pytest.mark.django_db

HEADER = "统一社会信用代码,服务商名称,服务商类型,产品和服务,服务地区代码,联系人,电子邮箱,联系电话\n"


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _csv(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return (header + "".join(r + "\n" for r in rows)).encode(encoding)


def _file(data: bytes, name: str = "providers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _check(user: Any, region: Any, data: bytes, name: str = "p.csv") -> importing.ProviderFile:
    with translation.override("en"):
        return register.provider_file_check(region=region, user=user, data=data, filename=name)


def test_template_has_both_header_rows_and_instructions(regional_official: Any):
    response = _client(regional_official).get(reverse("programmes:provider_template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [c.header_zh for c in importing.COLUMNS]
    assert list(rows[1]) == [c.key for c in importing.COLUMNS]
    assert len(book.worksheets) == 2


def test_template_is_for_register_keepers_only(cluster_official: Any, firm_user: Any):
    for user in (cluster_official, firm_user):
        assert _client(user).get(reverse("programmes:provider_template")).status_code == 404


def test_filled_template_imports_after_preview(regional_official: Any, world: dict[str, Any]):
    template = register.provider_template()
    book = load_workbook(io.BytesIO(template))
    out = Workbook()
    sheet = out.active
    for row in book.worksheets[0].iter_rows(values_only=True):
        sheet.append(list(row))
    code = make_uscc(610_001)
    sheet.append(
        [
            code,
            "苏州智造科技",
            "系统集成商",
            "MES、设备联网",
            "320500、320583",
            "李明",
            "LiMing@Example.COM",
            "13812345678",
        ]
    )
    buffer = io.BytesIO()
    out.save(buffer)
    client = _client(regional_official)
    url = reverse("programmes:provider_import")
    preview = client.post(
        url, {"region": world["city_a"].pk, "file": _file(buffer.getvalue(), "p.xlsx")}
    )
    assert preview.status_code == 200
    checked = preview.context["checked"]
    assert checked.ok and checked.new_count == 1
    assert not Provider.objects.exists()  # nothing written before the confirmation
    token = preview.context["token"]
    done = client.post(reverse("programmes:provider_import_commit", args=[token]))
    assert done.status_code == 302
    provider = Provider.objects.get()
    assert (provider.uscc, provider.name, provider.kind) == (code, "苏州智造科技", "integrator")
    assert provider.region == world["city_a"]
    assert provider.contact_email == "LiMing@example.com"
    assert sorted(r.code for r in provider.regions_served.all()) == ["320500", "320583"]
    # The confirmation is used up: a second one is a 404, and nothing is written twice.
    again = client.post(reverse("programmes:provider_import_commit", args=[token]))
    assert again.status_code == 404
    assert Provider.objects.count() == 1


def test_gb18030_csv_with_english_headers_and_type_keys(
    regional_official: Any, world: dict[str, Any]
):
    data = _csv(
        f"{make_uscc(610_002)},链主服务商,chain_leader,,,,,",
        header="uscc,name,kind,products,regions_served,contact_person,contact_email,contact_phone\n",
        encoding="gb18030",
    )
    checked = _check(regional_official, world["province_a"], data)
    assert checked.ok, [str(p) for p in checked.problems]
    assert checked.rows[0].kind == "chain_leader"


def test_every_bad_row_is_named_by_row_and_column(regional_official: Any, world: dict[str, Any]):
    good = make_uscc(610_003)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    data = _csv(
        f"{good},甲,系统集成商,,,,,",
        f"{bad},乙,系统集成商,,,,,",
        f"{make_uscc(610_004)},丙,咨询公司,,,,,",
        f"{make_uscc(610_005)},丁,小快轻准产品,,999999,,,",
        f"{good},戊,链主企业,,,,,",
        f"{make_uscc(610_006)},,链主企业,,,,not-an-email,12",
    )
    checked = _check(regional_official, world["province_a"], data)
    assert not checked.ok
    texts = [str(p) for p in checked.problems]
    assert any(t.startswith("Row 3, column 统一社会信用代码 (A)") for t in texts)
    assert any(t.startswith("Row 4, column 服务商类型 (C)") and "咨询公司" in t for t in texts)
    assert any(t.startswith("Row 5, column 服务地区代码 (E)") and "999999" in t for t in texts)
    assert any(t.startswith("Row 6, column 统一社会信用代码 (A)") and "row 2" in t for t in texts)
    assert any(t.startswith("Row 7, column 服务商名称 (B)") for t in texts)
    assert any(t.startswith("Row 7, column 电子邮箱 (G)") for t in texts)
    assert any(t.startswith("Row 7, column 联系电话 (H)") for t in texts)
    with pytest.raises(register.ProviderImportRejected):
        register.provider_import(
            region=world["province_a"], user=regional_official, data=data, filename="p.csv"
        )
    assert not Provider.objects.exists()


def test_preview_page_lists_problems_and_offers_no_confirmation(
    regional_official: Any, world: dict[str, Any]
):
    data = _csv(f"{make_uscc(610_007)},甲,未知类型,,,,,")
    response = _client(regional_official).post(
        reverse("programmes:provider_import"),
        {"region": world["province_a"].pk, "file": _file(data)},
    )
    body = response.content.decode()
    assert "nothing will be imported" in body
    assert "token" not in response.context
    assert "Row 2, column 服务商类型 (C)" in body


def test_a_code_of_another_regions_register_is_refused(
    regional_official: Any, world: dict[str, Any]
):
    theirs = ProviderFactory(region=world["province_b"])
    checked = _check(
        regional_official, world["province_a"], _csv(f"{theirs.uscc},改名,系统集成商,,,,,")
    )
    assert not checked.ok
    assert str(checked.problems[0]).startswith("Row 2, column 统一社会信用代码 (A)")
    theirs.refresh_from_db()
    assert theirs.name != "改名"


def test_a_code_of_a_kept_provider_updates_it_and_keeps_blank_cells(
    regional_official: Any, world: dict[str, Any]
):
    mine = ProviderFactory(region=world["city_a"], products="原有产品", contact_person="王芳")
    data = _csv(f"{mine.uscc},新名称,链主企业,,,,,")
    outcome = register.provider_import(
        region=world["province_a"], user=regional_official, data=data, filename="p.csv"
    )
    assert (outcome.created, outcome.updated) == (0, 1)
    mine.refresh_from_db()
    assert (mine.name, mine.kind, mine.products, mine.contact_person) == (
        "新名称",
        "chain_leader",
        "原有产品",
        "王芳",
    )
    assert mine.region == world["city_a"]  # an update never moves the entry


def test_missing_required_columns_are_named(regional_official: Any, world: dict[str, Any]):
    data = "统一社会信用代码,服务商名称\n91110000MA0000000X,甲\n".encode()
    checked = _check(regional_official, world["province_a"], data)
    assert len(checked.problems) == 1
    assert "服务商类型" in str(checked.problems[0])


def test_size_and_row_limits(
    regional_official: Any, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    big = b"x" * (10 * 1024 * 1024 + 1)
    checked = _check(regional_official, world["province_a"], big)
    assert "10 MB" in str(checked.problems[0])
    monkeypatch.setattr(importing, "MAX_ROWS", 2)
    rows = [f"{make_uscc(620_000 + i)},服务商{i},系统集成商,,,,," for i in range(3)]
    checked = _check(regional_official, world["province_a"], _csv(*rows))
    assert not checked.rows
    assert "more than 2 provider rows" in str(checked.problems[0])


def test_upload_over_10_mb_is_refused_by_the_form(regional_official: Any, world: dict[str, Any]):
    big = SimpleUploadedFile("big.csv", b"x" * (10 * 1024 * 1024 + 1), content_type="text/csv")
    response = _client(regional_official).post(
        reverse("programmes:provider_import"), {"region": world["province_a"].pk, "file": big}
    )
    assert response.context["form"].errors["file"]


def test_commit_is_all_or_nothing_when_the_register_changed(
    regional_official: Any, world: dict[str, Any]
):
    first, second = make_uscc(610_010), make_uscc(610_011)
    data = _csv(f"{first},甲,系统集成商,,,,,", f"{second},乙,系统集成商,,,,,")
    client = _client(regional_official)
    preview = client.post(
        reverse("programmes:provider_import"),
        {"region": world["province_a"].pk, "file": _file(data)},
    )
    token = preview.context["token"]
    ProviderFactory(uscc=second, region=world["province_b"])  # registered elsewhere meanwhile
    response = client.post(reverse("programmes:provider_import_commit", args=[token]))
    assert response.status_code == 400
    assert "Nothing was imported" in response.content.decode()
    assert not Provider.objects.filter(uscc=first).exists()


def test_a_confirmation_belongs_to_the_session_that_previewed(
    regional_official: Any, world: dict[str, Any], staff_user: Any
):
    data = _csv(f"{make_uscc(610_012)},甲,系统集成商,,,,,")
    preview = _client(regional_official).post(
        reverse("programmes:provider_import"),
        {"region": world["province_a"].pk, "file": _file(data)},
    )
    token = preview.context["token"]
    other = _client(staff_user).post(reverse("programmes:provider_import_commit", args=[token]))
    assert other.status_code == 404
    assert not Provider.objects.exists()


def test_import_page_is_for_register_keepers_only(cluster_official: Any, outsider: Any):
    for user in (cluster_official, outsider):
        assert _client(user).get(reverse("programmes:provider_import")).status_code == 404
