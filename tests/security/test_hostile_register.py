"""Hostile register files (issue 8, part 2): each costs well under a second of CPU.

Every file is built here, small, and posted through the real import page by an official; the
test asserts the status, the message naming what is wrong, and the CPU seconds spent.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clusters import importing
from clusters.models import Firm
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db

CODE = make_uscc(424_242)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>统一社会信用代码</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>企业名称</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>从业人员</t></is></c></row>'
)


def _data_row(employees: str = '<c r="C2"><v>12</v></c>', number: int = 2) -> str:
    return (
        f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{CODE}</t></is></c>'
        f'<c r="B{number}" t="inlineStr"><is><t>甲精密机械有限公司</t></is></c>'
        f"{employees}</row>"
    )


def _xlsx(sheet_data: str, before_data: str = "", members: dict[str, bytes] | None = None) -> bytes:
    """A minimal workbook, as Excel would accept it, around the given <sheetData> content."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" '
            b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            b"</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">{before_data}'
            f"<sheetData>{sheet_data}</sheetData></worksheet>"
        ).encode(),
    }
    parts.update(members or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _post(client, official, data: bytes, name: str = "firms.xlsx"):
    client.force_login(official)
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(
        reverse("clusters:import", args=["alpha"]), {"file": upload}, HTTP_ACCEPT_LANGUAGE="en"
    )


def _problems(response) -> list[str]:
    assert response.status_code == 200
    checked = response.context["checked"]
    assert not checked.ok
    return [str(p) for p in checked.problems]


# --- XLSX ------------------------------------------------------------------------------------


def test_declared_dimension_is_ignored(client, world, cluster_official, cpu_bound):
    # openpyxl pads every row up to the declared width, and the gap up to row 20,000 with
    # rows as wide: hundreds of millions of empty cells from 1.6 KB.
    data = _xlsx(
        HEADER_ROW + _data_row() + '<row r="20000"/>',
        before_data='<dimension ref="A1:XFD20000"/>',
    )
    assert len(data) < 2000
    with cpu_bound(1.0):
        response = _post(client, cluster_official, data)
    assert response.status_code == 200
    checked = response.context["checked"]
    assert checked.ok and [r.uscc for r in checked.rows] == [CODE]
    assert checked.rows[0].employees == 12


def test_a_cell_far_to_the_right_is_refused(client, world, cluster_official, cpu_bound):
    far = '<c r="XFD2" t="inlineStr"><is><t>x</t></is></c>'
    data = _xlsx(HEADER_ROW + _data_row(far + '<c r="C2"><v>1</v></c>'))
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data))
    assert "column XFD" in message and f"at most {importing.MAX_COLUMNS} columns" in message


def test_a_million_empty_rows_are_refused(client, world, cluster_official, cpu_bound):
    data = _xlsx(HEADER_ROW + _data_row() + "<row/>" * 1_000_000)
    assert len(data) < 12_000
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data))
    # Six megabytes of XML from ten kilobytes: refused before parsing.
    assert "unpacks to 5.7 MB" in message


def test_empty_rows_count_against_the_row_limit(client, world, cluster_official, cpu_bound):
    data = _xlsx(HEADER_ROW + _data_row() + "<row/>" * 70_000)
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data))
    assert f"more than {importing.MAX_SHEET_ROWS:,} rows" in message
    assert "blank" in message


def test_a_million_digit_number_is_refused_before_it_is_converted(
    client, world, cluster_official, cpu_bound
):
    digits = "9" * 1_000_000
    cell = f'<c r="C2" t="inlineStr"><is><t>{digits}</t></is></c>'
    data = _xlsx(HEADER_ROW + _data_row(cell))
    assert len(data) < 4000
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data))
    assert message.startswith("Row 2, column 从业人员 (C):")
    assert "is not a whole number of persons" in message
    assert digits[:40] in message and digits[:41] not in message
    # The same as a number cell, and in an amount column.
    number = _xlsx(HEADER_ROW + _data_row(f'<c r="C2"><v>{digits}</v></c>'))
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, number))
    assert "is not a whole number of persons" in message


def test_a_zip_bomb_is_refused_from_its_declared_sizes(client, world, cluster_official, cpu_bound):
    padding = " " * (40 * 1024 * 1024)  # 40 MB of blanks deflate to about 40 KB
    data = _xlsx(HEADER_ROW + padding + _data_row())
    assert len(data) < 100_000
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data))
    assert "unpacks to" in message and "MB" in message
    assert not Firm.objects.filter(uscc=CODE).exists()


def test_a_formula_without_a_saved_value_is_still_an_error(
    client, world, cluster_official, cpu_bound
):
    formula = '<c r="C2"><f>10*10^100000</f></c>'
    data = _xlsx(HEADER_ROW + _data_row(formula))
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data))
    assert "formula" in message and "no saved value" in message


def test_a_document_type_declaration_is_refused(client, world, cluster_official, cpu_bound):
    laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    data = _xlsx(HEADER_ROW + _data_row())
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"?><worksheet", f"?>{laughs}<worksheet".encode())
            target.writestr(item.filename, content)
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, buffer.getvalue()))
    assert "XLSX" in message


# --- CSV -------------------------------------------------------------------------------------


def test_csv_blank_lines_count_against_the_row_limit(client, world, cluster_official, cpu_bound):
    data = f"统一社会信用代码,企业名称\n{CODE},甲公司\n".encode() + b"\n" * 5_000_000
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data, "firms.csv"))
    assert f"more than {importing.MAX_SHEET_ROWS:,} rows" in message


def test_csv_with_too_many_columns_is_refused(client, world, cluster_official, cpu_bound):
    data = ("统一社会信用代码,企业名称" + "," * 1_000_000 + f"\n{CODE},甲公司\n").encode()
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data, "firms.csv"))
    assert f"at most {importing.MAX_COLUMNS} columns" in message


def test_csv_long_numbers_are_refused_before_they_are_converted(
    client, world, cluster_official, cpu_bound
):
    digits = "7" * 100_000
    data = f"统一社会信用代码,企业名称,从业人员,营业收入(万元)\n{CODE},甲公司,{digits},{digits}\n"
    with cpu_bound(1.0):
        messages = _problems(_post(client, cluster_official, data.encode(), "firms.csv"))
    assert len(messages) == 2
    assert "whole number of persons" in messages[0] and "amount" in messages[1]


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("big5", "台灣積體電路製造股份有限公司"),
        ("shift_jis", "株式会社日立製作所"),
        ("cp1252", "Müller Präzisionstechnik GmbH"),
        ("cp1252", "Société Générale de Mécanique"),
    ],
)
def test_csv_in_another_encoding_is_refused_not_garbled(
    client, world, cluster_official, cpu_bound, encoding, name
):
    data = f"uscc,name\n{CODE},{name}\n{make_uscc(424_243)},{name}二\n".encode(encoding, "replace")
    with cpu_bound(1.0):
        (message,) = _problems(_post(client, cluster_official, data, "firms.csv"))
    assert "UTF-8" in message and "GB18030" in message


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("gb18030", "苏州王堃精密机械有限公司"),
        ("gb18030", "昆山市（张浦）喆力电子科技有限公司"),
        ("gbk", "江苏华昇新材料股份有限公司"),
        ("utf-8", "台灣積體電路製造股份有限公司"),
        ("utf-8-sig", "Müller Präzisionstechnik GmbH"),
    ],
)
def test_csv_in_utf8_or_gb18030_is_read(client, world, cluster_official, encoding, name):
    data = f"uscc,name\n{CODE},{name}\n".encode(encoding)
    response = _post(client, cluster_official, data, "firms.csv")
    checked = response.context["checked"]
    assert checked.ok, [str(p) for p in checked.problems]
    assert checked.rows[0].name == name
