"""The register's contact columns: person, e-mail and telephone (issue 10, part 3)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from clusters import contacts, importing
from clusters.models import Firm
from clusters.services import OPERATOR, ImportRejected, register_import
from clusters.validators import validate_phone
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db

HEAD_ZH = ["统一社会信用代码", "企业名称", "联系人", "电子邮箱", "联系电话"]
HEAD_EN = ["uscc", "name", "contact_person", "contact_email", "contact_phone"]


def _xlsx(rows: list[list[object]], headers: tuple[list[str], ...] = (HEAD_ZH, HEAD_EN)) -> bytes:
    book = Workbook()
    sheet = book.active
    for header in (*headers, *rows):
        sheet.append(header)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[list[object]], header: list[str] = HEAD_ZH) -> bytes:
    lines = [",".join(header)] + [",".join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.parametrize(
    "number",
    [
        "13812345678",
        "138 1234 5678",
        "+86 138-1234-5678",
        "0086 13812345678",
        "0512-57501234",
        "(0512) 5750 1234",
        "０５１２－５７５０１２３４",
        "010-12345678转123",
        "021 6888 8888",
        "400-800-1234",
    ],
)
def test_phone_numbers_people_write_are_accepted(number):
    assert contacts.phone_problem(number) is None


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("12345", "form"),
        ("23812345678", "form"),  # no mobile number starts 2
        ("13812345678转1", "form"),  # a mobile has no extension
        ("0512-123", "form"),
        ("call me", "form"),
        ("1" * 41, "length"),
        ("１" * 100_000, "length"),  # bounded before matching
    ],
)
def test_phone_numbers_that_are_not_numbers_are_refused(number, problem):
    assert contacts.phone_problem(number) == problem


def test_the_model_validator_names_the_expected_forms():
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        validate_phone("12345")
    assert "mobile number (11 digits" in caught.value.messages[0]


def test_import_stores_contacts_from_chinese_and_english_headers(world):
    rows = [
        [make_uscc(50_001), "联络精密有限公司", "王芳", "WangFang@Example.COM", "0512-5750 1234"],
        [make_uscc(50_002), "联络模具有限公司", "", "", ""],
    ]
    register_import(cluster=world["alpha"], user=OPERATOR, data=_xlsx(rows), filename="f.xlsx")
    first = Firm.objects.get(uscc=make_uscc(50_001))
    assert (first.contact_person, first.contact_email, first.contact_phone) == (
        "王芳",
        "WangFang@example.com",  # the domain is case-blind, the local part is kept
        "0512-5750 1234",
    )
    second = Firm.objects.get(uscc=make_uscc(50_002))
    assert (second.contact_person, second.contact_email, second.contact_phone) == ("", "", "")
    english = _csv(
        [[make_uscc(50_003), "英文表头有限公司", "Li Lei", "li@example.com", "13812345678"]],
        header=["USCC", "Name", "Contact person", "E-mail", "Phone"],
    )
    register_import(cluster=world["alpha"], user=OPERATOR, data=english, filename="f.csv")
    third = Firm.objects.get(uscc=make_uscc(50_003))
    assert (third.contact_person, third.contact_email, third.contact_phone) == (
        "Li Lei",
        "li@example.com",
        "13812345678",
    )


def test_a_blank_contact_cell_keeps_the_register_value(world):
    firm = world["firms"]["alpha"][0]
    firm.contact_email = "kept@example.com"
    firm.save()
    data = _csv([[firm.uscc, firm.name, "新联系人", "", ""]])
    register_import(cluster=world["alpha"], user=OPERATOR, data=data, filename="f.csv")
    firm.refresh_from_db()
    assert firm.contact_person == "新联系人"
    assert firm.contact_email == "kept@example.com"


def test_bad_contacts_are_named_by_row_and_column_and_nothing_is_written(world):
    before = Firm.objects.count()
    rows = [
        [make_uscc(50_010), "甲有限公司", "张三", "not-an-address", "13812345678"],
        [make_uscc(50_011), "乙有限公司", "李四", "a@example.com; b@example.com", ""],
        [make_uscc(50_012), "丙有限公司", "王五", "c@example.com", "12345"],
        [make_uscc(50_013), "丁有限公司", "赵" * 101, "", ""],
    ]
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        register_import(cluster=world["alpha"], user=OPERATOR, data=_xlsx(rows), filename="f.xlsx")
    with translation.override("en"):
        messages = [str(p) for p in caught.value.problems]
    assert Firm.objects.count() == before
    assert messages == [
        "Row 3, column 电子邮箱 (D): “not-an-address” is not an e-mail address such as "
        "name@example.com.",
        "Row 4, column 电子邮箱 (D): “a@example.com; b@example.com” holds more than one "
        "address; give one address per firm.",
        "Row 5, column 联系电话 (E): “12345”: Write a mainland mobile number (11 digits, such as "
        "138 1234 5678), a landline with its area code (such as 0512-5750 1234, an extension "
        "after 转), or a 400/800 number.",
        "Row 6, column 联系人 (C): the name is longer than 100 characters.",
    ]


def test_bad_contacts_are_explained_in_chinese(world):
    rows = [[make_uscc(50_020), "甲有限公司", "张三", "不是邮箱", ""]]
    with translation.override("zh-hans"), pytest.raises(ImportRejected) as caught:
        register_import(cluster=world["alpha"], user=OPERATOR, data=_xlsx(rows), filename="f.xlsx")
    with translation.override("zh-hans"):
        message = str(caught.value.problems[0])
    assert message.startswith("第 3 行")
    assert "电子邮箱 (D)" in message and "不是" in message


def test_an_overlong_address_is_refused_before_it_is_parsed(world):
    rows = [[make_uscc(50_030), "甲有限公司", "", "a" * 300 + "@example.com", ""]]
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        register_import(cluster=world["alpha"], user=OPERATOR, data=_xlsx(rows), filename="f.xlsx")
    with translation.override("en"):
        assert "longer than 254 characters" in str(caught.value.problems[0])


def test_template_and_export_carry_the_contact_columns_and_import_back(
    client, world, cluster_official
):
    firm = world["firms"]["alpha"][0]
    firm.contact_person, firm.contact_email = "王芳", "wang@example.com"
    firm.contact_phone = "+86 138 1234 5678"  # begins with "+": written as text, not a formula
    firm.save()
    client.force_login(cluster_official)
    template = load_workbook(io.BytesIO(client.get(reverse("clusters:template")).content))
    head = list(template.worksheets[0].iter_rows(values_only=True))
    assert head[0][-3:] == ("联系人", "电子邮箱", "联系电话")
    assert head[1][-3:] == ("contact_person", "contact_email", "contact_phone")
    response = client.get(reverse("clusters:export", args=["alpha"]))
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    row = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == firm.uscc)
    by_header = {h: c for h, c in zip(header, row, strict=False)}
    assert by_header["联系人"].value == "王芳"
    assert by_header["电子邮箱"].value == "wang@example.com"
    assert by_header["联系电话"].value == "+86 138 1234 5678"
    assert by_header["联系电话"].data_type == "s"
    checked = importing.read_register(response.content, "export.xlsx")
    assert checked.ok
    again = next(r for r in checked.rows if r.uscc == firm.uscc)
    assert (again.contact_person, again.contact_email, again.contact_phone) == (
        "王芳",
        "wang@example.com",
        "+86 138 1234 5678",
    )


def test_admin_lists_and_edits_the_contact(client, world, staff_user):
    firm = world["firms"]["alpha"][0]
    client.force_login(staff_user)
    url = reverse("admin:clusters_firm_change", args=[firm.pk])
    page = client.get(url).content.decode()
    assert 'name="contact_email"' in page and 'name="contact_phone"' in page
    listing = client.get(reverse("admin:clusters_firm_changelist")).content.decode()
    assert "column-contact_person" in listing
