"""Register import: good files, one test per kind of bad row, broken files, limits.

In every failing case the database must be exactly as it was.
"""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook

from clusters import importing
from clusters.models import ClusterMembership, Firm
from clusters.services import OPERATOR, ImportRejected, register_import
from tests.factories import FirmFactory, MembershipFactory, make_uscc

pytestmark = pytest.mark.django_db

HEAD_ZH = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "从业人员", "营业收入(万元)"]
HEAD_EN = ["uscc", "name", "region_code", "industry_code", "employees", "revenue_10k_cny"]


def _row(n: int, **over: object) -> list[object]:
    values = {
        "uscc": make_uscc(10_000 + n),
        "name": f"测试精密机械有限公司{n}",
        "region_code": "320583",
        "industry_code": "C34",
        "employees": 120,
        "revenue_10k_cny": 8000,
    }
    values.update(over)
    return [values[k] for k in HEAD_EN]


def _csv(rows: list[list[object]], header: list[str] = HEAD_ZH, encoding: str = "utf-8") -> bytes:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def _xlsx(rows: list[list[object]], headers: tuple[list[str], ...] = (HEAD_ZH, HEAD_EN)) -> bytes:
    book = Workbook()
    sheet = book.active
    for header in headers:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _snapshot() -> tuple[list[tuple], list[tuple]]:
    firms = list(
        Firm.objects.order_by("uscc").values_list(
            "uscc", "name", "region_id", "industry_division", "employees", "revenue_10k_cny"
        )
    )
    links = list(ClusterMembership.objects.order_by("pk").values_list("cluster_id", "firm_id"))
    return firms, links


def _rejected(world, data: bytes, filename: str = "firms.csv") -> list[str]:
    """Import expecting a rejection; check nothing changed; return the messages in English."""
    before = _snapshot()
    with translation.override("en"):
        with pytest.raises(ImportRejected) as err:
            register_import(cluster=world["alpha"], user=OPERATOR, data=data, filename=filename)
        messages = [str(p) for p in err.value.problems]
    assert _snapshot() == before
    return messages


# --- Good files -------------------------------------------------------------------------------


def test_good_csv_creates_firms_with_size_classes_and_memberships(world):
    data = _csv([_row(1), _row(2, employees=1000, revenue_10k_cny=40000), _row(3, employees=5)])
    outcome = register_import(
        cluster=world["alpha"], user=OPERATOR, data=data, filename="firms.csv"
    )
    assert (outcome.created, outcome.updated, outcome.joined) == (3, 0, 3)
    firms = {f.uscc: f for f in Firm.objects.filter(uscc__in=[_row(i)[0] for i in (1, 2, 3)])}
    assert firms[_row(1)[0]].size_class == "small"
    assert firms[_row(2)[0]].size_class == "large"
    assert firms[_row(3)[0]].size_class == "micro"
    first = firms[_row(1)[0]]
    assert first.region == world["county_a"]
    assert (first.industry_section, first.industry_division) == ("C", "34")
    assert first.revenue_10k_cny == Decimal("8000.00")
    assert set(world["alpha"].firms.all()) >= set(firms.values())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_excel_writes_are_read(world, encoding):
    data = _csv([_row(1)], encoding=encoding)
    outcome = register_import(
        cluster=world["alpha"], user=OPERATOR, data=data, filename="firms.csv"
    )
    assert outcome.created == 1
    assert Firm.objects.get(uscc=_row(1)[0]).name == "测试精密机械有限公司1"


def test_xlsx_with_both_header_rows_and_english_only_headers(world):
    outcome = register_import(
        cluster=world["alpha"], data=_xlsx([_row(1), _row(2)]), filename="firms.xlsx", user=OPERATOR
    )
    assert outcome.created == 2
    outcome = register_import(
        cluster=world["beta"],
        data=_xlsx([_row(3)], headers=(HEAD_EN,)),
        filename="f.xlsx",
        user=OPERATOR,
    )
    assert outcome.created == 1


def test_xlsx_numbers_stored_as_floats_and_lower_case_codes_are_normalised(world):
    data = _xlsx([_row(1, uscc=_row(1)[0].lower(), region_code=320583.0, employees=120.0)])
    register_import(cluster=world["alpha"], user=OPERATOR, data=data, filename="firms.xlsx")
    firm = Firm.objects.get(uscc=_row(1)[0])
    assert firm.region == world["county_a"] and firm.employees == 120


def test_existing_code_updates_the_firm_and_joins_the_cluster(world):
    firm = world["firms"]["gamma"][0]
    data = _csv(
        [_row(1, uscc=firm.uscc, name="新名称有限公司", employees=None, revenue_10k_cny=50)]
    )
    outcome = register_import(
        cluster=world["alpha"], user=OPERATOR, data=data, filename="firms.csv"
    )
    assert (outcome.created, outcome.updated, outcome.joined) == (0, 1, 1)
    firm.refresh_from_db()
    assert firm.name == "新名称有限公司"
    assert firm.employees == 120  # a blank cell keeps the register's value
    assert firm.revenue_10k_cny == Decimal("50.00")
    assert firm.size_class == "micro"  # recomputed from the new revenue
    assert set(firm.clusters.values_list("slug", flat=True)) == {"gamma", "alpha"}
    # Importing again changes nothing more: the firm is already a member.
    again = register_import(cluster=world["alpha"], user=OPERATOR, data=data, filename="firms.csv")
    assert (again.created, again.updated, again.joined) == (0, 1, 0)


def test_dry_run_writes_nothing(world):
    before = _snapshot()
    outcome = register_import(
        cluster=world["alpha"],
        data=_csv([_row(1)]),
        filename="firms.csv",
        user=OPERATOR,
        dry_run=True,
    )
    assert outcome.created == 1
    assert _snapshot() == before


def test_extra_columns_are_ignored_and_listed(world):
    data = _csv([[*_row(1), "备注"]], header=[*HEAD_ZH, "备注"])
    checked = importing.read_register(data, "firms.csv")
    assert checked.ok and checked.ignored_headers == ["备注"]


def test_blank_rows_are_skipped_and_row_numbers_stay_as_in_excel(world):
    data = _xlsx([_row(1), [None] * 6, _row(2, uscc="BAD")])
    messages = _rejected(world, data, "firms.xlsx")
    assert messages and messages[0].startswith("Row 5, column 统一社会信用代码 (A):")


# --- One test per kind of bad row -------------------------------------------------------------


def test_bad_code_length(world):
    (message,) = _rejected(world, _csv([_row(1), _row(2, uscc="91350100M000100Y4")]))
    assert message.startswith("Row 3, column 统一社会信用代码 (A):")
    assert "18 characters" in message and "17" in message


def test_bad_code_character(world):
    (message,) = _rejected(world, _csv([_row(1, uscc="91350100M000100YO3")]))
    assert "Row 2" in message and "I, O, S, V and Z" in message


def test_bad_code_check_character(world):
    (message,) = _rejected(world, _csv([_row(1, uscc="91350100M000100Y44")]))
    assert "should be “3”" in message


def test_empty_code(world):
    (message,) = _rejected(world, _csv([_row(1, uscc="")]))
    assert "Row 2" in message and "empty" in message


def test_duplicate_code_within_the_file_names_the_first_row(world):
    (message,) = _rejected(world, _csv([_row(1), _row(2), _row(3, uscc=_row(1)[0])]))
    assert message.startswith("Row 4, column")
    assert "row 2" in message


def test_empty_name(world):
    (message,) = _rejected(world, _csv([_row(1, name="")]))
    assert message.startswith("Row 2, column 企业名称 (B):") and "empty" in message


def test_name_too_long(world):
    (message,) = _rejected(world, _csv([_row(1, name="长" * 201)]))
    assert "200 characters" in message


def test_unknown_region_code(world):
    (message,) = _rejected(world, _csv([_row(1, region_code="110101")]))
    assert message.startswith("Row 2, column 行政区划代码 (C):") and "110101" in message


def test_malformed_region_code(world):
    (message,) = _rejected(world, _csv([_row(1, region_code="32A583")]))
    assert "not an administrative division code" in message


@pytest.mark.parametrize("code", ["X34", "F34", "C99", "C3", "制造业"])
def test_bad_industry_code(world, code):
    (message,) = _rejected(world, _csv([_row(1, industry_code=code)]))
    assert message.startswith("Row 2, column 行业代码 (D):") and "GB/T 4754" in message


@pytest.mark.parametrize("value", ["-1", "12.5", "abc", "20000000"])
def test_bad_employees(world, value):
    (message,) = _rejected(world, _csv([_row(1, employees=value)]))
    assert message.startswith("Row 2, column 从业人员 (E):") and value in message


@pytest.mark.parametrize("value", ["-5", "abc", "1e400", "NaN"])
def test_bad_revenue(world, value):
    (message,) = _rejected(world, _csv([_row(1, revenue_10k_cny=value)]))
    assert message.startswith("Row 2, column 营业收入(万元) (F):")


def test_every_problem_of_a_row_is_listed(world):
    messages = _rejected(world, _csv([_row(1, uscc="X", name="", employees="many")]))
    assert len(messages) == 3


def test_one_bad_row_imports_nothing(world):
    rows = [_row(i) for i in range(1, 50)] + [_row(99, employees="?")]
    messages = _rejected(world, _csv(rows))
    assert len(messages) == 1 and messages[0].startswith("Row 51")


# --- Broken files and limits ------------------------------------------------------------------


def test_malformed_xlsx(world):
    data = _xlsx([_row(1)])
    broken = data[: len(data) // 2]  # a truncated zip
    (message,) = _rejected(world, broken, "firms.xlsx")
    assert "not a readable XLSX workbook" in message


def test_zip_that_is_not_a_workbook(world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    (message,) = _rejected(world, buffer.getvalue(), "firms.xlsx")
    assert "not a readable XLSX workbook" in message


def test_old_xls_and_other_binaries_are_refused(world):
    (message,) = _rejected(world, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls")
    assert ".xlsx" in message
    (message,) = _rejected(world, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "photo.png")
    assert "Unsupported file type" in message
    (message,) = _rejected(world, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "photo.csv")
    assert "not a CSV text file" in message


def test_undecodable_csv(world):
    (message,) = _rejected(world, b"\xff\xfe\xfa" * 10 + b"\x81\x20", "firms.csv")
    assert "encoding" in message


def test_formula_without_a_saved_value_is_rejected(world):
    data = _xlsx([_row(1, employees="=100+20")])  # openpyxl saves no cached value
    (message,) = _rejected(world, data, "firms.xlsx")
    assert message.startswith("Row 3, column 从业人员 (E):")
    assert "=100+20" in message and "never calculated" in message


def _with_cached_value(data: bytes, cell: str, value: str) -> bytes:
    """Add the value Excel would have saved next to a formula."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text, count = re.subn(
                    rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>)(\s*<v\s*/>|\s*<v>\s*</v>)?',
                    rf"\1<v>{value}</v>",
                    text,
                )
                assert count == 1
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


def test_formula_with_a_saved_value_uses_that_value_and_is_not_evaluated(world):
    data = _with_cached_value(_xlsx([_row(1, employees="=100+20")]), "E3", "77")
    register_import(cluster=world["alpha"], user=OPERATOR, data=data, filename="firms.xlsx")
    assert Firm.objects.get(uscc=_row(1)[0]).employees == 77  # the saved value, not 120


def test_empty_file(world):
    (message,) = _rejected(world, b"", "firms.csv")
    assert "empty" in message
    (message,) = _rejected(world, b"\n\n  \n", "firms.csv")
    assert "empty" in message


def test_empty_workbook(world):
    book = Workbook()
    buffer = io.BytesIO()
    book.save(buffer)
    (message,) = _rejected(world, buffer.getvalue(), "firms.xlsx")
    assert "empty" in message


def test_header_without_rows(world):
    (message,) = _rejected(world, _xlsx([]), "firms.xlsx")
    assert "no firms" in message


def test_missing_required_header(world):
    (message,) = _rejected(world, _csv([["x", "y"]], header=["企业名称", "备注"]))
    assert "统一社会信用代码" in message


def test_duplicate_header(world):
    (message,) = _rejected(world, _csv([_row(1)[:2]], header=["uscc", "统一社会信用代码"]))
    assert "twice" in message


def test_file_over_10_mb(world):
    data = _csv([_row(1)]) + b" " * (importing.MAX_BYTES + 1)
    (message,) = _rejected(world, data)
    assert "10 MB" in message


def test_file_over_50000_rows(world):
    rows = "\n".join(f"{make_uscc(i)},企业{i}" for i in range(importing.MAX_ROWS + 1))
    data = ("uscc,name\n" + rows + "\n").encode()
    assert len(data) < importing.MAX_BYTES
    (message,) = _rejected(world, data)
    assert "50,000" in message


def test_exactly_50000_rows_is_allowed(world):
    rows = "\n".join(f"{make_uscc(i)},企业{i}" for i in range(importing.MAX_ROWS))
    checked = importing.read_register(("uscc,name\n" + rows).encode(), "firms.csv")
    assert checked.ok and len(checked.rows) == importing.MAX_ROWS


def test_errors_are_in_chinese_by_default(world):
    with translation.override("zh-hans"):
        checked = importing.read_register(_csv([_row(1, employees="abc")]), "firms.csv")
    assert str(checked.problems[0]).startswith("第 2 行，“从业人员 (E)”列：")


# --- The command ------------------------------------------------------------------------------


def test_command_imports_and_prints_counts(world, tmp_path, capsys):
    path = tmp_path / "firms.csv"
    path.write_bytes(_csv([_row(1), _row(2)]))
    call_command("import_firms", "alpha", str(path), "--language", "en")
    out = capsys.readouterr().out
    assert "2 firms created" in out
    assert Firm.objects.filter(uscc=_row(1)[0]).exists()


def test_command_dry_run_writes_nothing(world, tmp_path, capsys):
    path = tmp_path / "firms.csv"
    path.write_bytes(_csv([_row(1)]))
    before = _snapshot()
    call_command("import_firms", "alpha", str(path), "--dry-run", "--language", "en")
    assert "would create 1" in capsys.readouterr().out
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("slug", "content", "expected"),
    [
        ("alpha", None, "Row 3, column 从业人员 (E)"),
        ("nope", b"uscc,name\n", "No cluster has the slug"),
        ("alpha", b"", "The file is empty"),
    ],
)
def test_command_exits_2_with_one_line_per_problem(
    world, tmp_path, capsys, slug, content, expected
):
    path = tmp_path / "firms.csv"
    path.write_bytes(content if content is not None else _csv([_row(1), _row(2, employees="x")]))
    before = _snapshot()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_firms", slug, str(path), "--language", "en")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert _snapshot() == before


def test_command_missing_file_exits_2(world, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_firms", "alpha", str(tmp_path / "none.csv"), "--language", "en")
    assert exit_info.value.code == 2
    assert "Cannot read" in capsys.readouterr().err


def test_membership_factory_still_works_alongside_imports(world):
    """Imported firms and factory firms live together; the unique code holds."""
    firm = FirmFactory()
    MembershipFactory(cluster=world["alpha"], firm=firm)
    data = _csv([_row(1, uscc=firm.uscc)])
    outcome = register_import(
        cluster=world["alpha"], user=OPERATOR, data=data, filename="firms.csv"
    )
    assert (outcome.created, outcome.updated, outcome.joined) == (0, 1, 0)


def test_xml_entity_bomb_in_a_workbook_is_refused(world):
    source = zipfile.ZipFile(io.BytesIO(_xlsx([_row(1)])))
    out = io.BytesIO()
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = bomb.encode()
            target.writestr(item, content)
    (message,) = _rejected(world, out.getvalue(), "firms.xlsx")
    assert "XLSX" in message


def test_command_refuses_a_file_over_10_mb_before_reading_it(world, tmp_path, capsys):
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(importing.MAX_BYTES + 1)
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_firms", "alpha", str(path), "--language", "en")
    assert exit_info.value.code == 2
    assert "10 MB" in capsys.readouterr().err


def test_tab_separated_text_is_read(world):
    data = ("uscc\tname\temployees\n" + f"{_row(1)[0]}\t制表符公司\t30\n").encode()
    outcome = register_import(
        cluster=world["alpha"], user=OPERATOR, data=data, filename="firms.txt"
    )
    assert outcome.created == 1
    assert Firm.objects.get(uscc=_row(1)[0]).employees == 30


def test_quoted_cells_with_commas_and_line_breaks_keep_excel_row_numbers(world):
    data = (
        f'uscc,name,employees\n{_row(1)[0]},"甲公司,苏州分部",10\n{_row(2)[0]},"乙公司\n第二行",x\n'
    ).encode()
    (message,) = _rejected(world, data)
    assert message.startswith("Row 3, column employees (C):")
