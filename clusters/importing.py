"""Reading and checking a firm register file (XLSX or CSV) before anything is written.

`read_register(data, filename)` turns the bytes of an upload into checked rows, or a list of
problems that each name the row (as Excel numbers it), the column and the reason, in the
active language. It never writes: `clusters.services.register_import` re-runs it inside the
transaction that writes, so a commit sees exactly what it imports.

Safety: formulas are never evaluated. In an XLSX file a formula cell counts only through the
value Excel saved with it; a formula without a saved value is an error. Files are size- and
row-limited before parsing goes far.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter

from clusters import industries, uscc
from clusters.models import Firm, Region
from clusters.validators import uscc_message

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_ERRORS = 1000  # beyond this many problems, the rest are counted, not listed
MAX_EMPLOYEES = 10_000_000
MAX_AMOUNT = Decimal("999999999999.99")  # the column holds 14 digits, 2 after the point


@dataclass(frozen=True)
class Column:
    """One column of the register file: its key, its Chinese header and its other names."""

    key: str
    header_zh: str
    label: Any  # lazy translatable description, shown in the template and in messages
    required: bool = False
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column(
        "uscc",
        "统一社会信用代码",
        gettext_lazy("Unified social credit code (18 characters)"),
        True,
        ("社会信用代码", "信用代码"),
    ),
    Column("name", "企业名称", gettext_lazy("Firm name"), True, ("名称", "单位名称")),
    Column(
        "region_code",
        "行政区划代码",
        gettext_lazy("Administrative division code (6 digits, e.g. 320583)"),
        False,
        ("区划代码",),
    ),
    Column(
        "industry_code",
        "行业代码",
        gettext_lazy("Industry code, GB/T 4754-2017 (e.g. C34 or 3411)"),
        False,
        ("国民经济行业代码",),
    ),
    Column(
        "employees",
        "从业人员",
        gettext_lazy("Employees (persons)"),
        False,
        ("从业人员(人)", "从业人数", "从业人员数"),
    ),
    Column(
        "revenue_10k_cny",
        "营业收入(万元)",
        gettext_lazy("Annual revenue (10,000 CNY)"),
        False,
        ("营业收入",),
    ),
    Column(
        "total_assets_10k_cny",
        "资产总额(万元)",
        gettext_lazy(
            "Total assets (10,000 CNY); only construction, real estate and leasing use it"
        ),
        False,
        ("资产总额",),
    ),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}


def _header_key(text: str) -> str:
    """A header cell reduced for matching: no blanks, ASCII brackets, lower case."""
    text = "".join(str(text).split()).lower()
    return text.replace("（", "(").replace("）", ")").replace("_", "").replace("-", "")


_HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.key, _column.header_zh, *_column.aliases):
        _HEADER_LOOKUP[_header_key(_name)] = _column.key


@dataclass(frozen=True)
class Problem:
    """One reason the file cannot be imported; row 0 means the file as a whole."""

    message: str
    row: int = 0
    column: str = ""

    def __str__(self) -> str:
        if self.row and self.column:
            return _("Row %(row)d, column %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        if self.row:
            return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}
        return self.message


@dataclass(frozen=True)
class FirmRow:
    """A checked row: values ready to write. None means "cell left blank"."""

    row: int
    uscc: str
    name: str
    region_code: str | None = None
    industry: industries.IndustryCode | None = None
    employees: int | None = None
    revenue_10k_cny: Decimal | None = None
    total_assets_10k_cny: Decimal | None = None
    present: frozenset[str] = frozenset()  # the column keys the file has


@dataclass
class RegisterFile:
    """The outcome of reading a file: checked rows, problems, and what is new or known."""

    rows: list[FirmRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0  # problems beyond MAX_ERRORS, counted only
    ignored_headers: list[str] = field(default_factory=list)
    existing: dict[str, int] = field(default_factory=dict)  # uscc → firm id
    regions: dict[str, int] = field(default_factory=dict)  # region code → region id

    @property
    def ok(self) -> bool:
        """True when the file can be imported as it is."""
        return not self.problems and not self.more_problems and bool(self.rows)

    @property
    def problem_count(self) -> int:
        """All problems, listed or not."""
        return len(self.problems) + self.more_problems

    @property
    def new_count(self) -> int:
        """Rows whose code is not in the register yet."""
        return sum(1 for r in self.rows if r.uscc not in self.existing)

    @property
    def update_count(self) -> int:
        """Rows that update a firm already in the register."""
        return sum(1 for r in self.rows if r.uscc in self.existing)

    def add(self, problem: Problem) -> None:
        """Record a problem, listing at most MAX_ERRORS of them."""
        if len(self.problems) < MAX_ERRORS:
            self.problems.append(problem)
        else:
            self.more_problems += 1


class FileRejected(Exception):
    """The file as a whole cannot be read (format, encoding, size, header)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Reading cells out of XLSX and CSV --------------------------------------------------------


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """Yield (Excel row number, cell values) from the first sheet, never evaluating formulas."""
    from openpyxl import load_workbook

    try:
        values_book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formula_book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for broken files; all mean the same here
        raise FileRejected(
            _("The file is not a readable XLSX workbook. Save it again from Excel as .xlsx.")
        ) from None
    try:
        if not values_book.worksheets:
            raise FileRejected(_("The workbook has no worksheet."))
        values = values_book.worksheets[0].iter_rows(values_only=True)
        formulas = formula_book.worksheets[0].iter_rows(values_only=True)
        try:
            for number, (cached, raw) in enumerate(zip(values, formulas, strict=False), start=1):
                cells = list(cached)
                for i, cell in enumerate(cells):
                    formula = raw[i] if i < len(raw) else None
                    if cell is None and formula is not None:
                        # Only a formula differs between the two readings: one Excel never
                        # calculated. Its value is unknown, and we do not evaluate formulas.
                        cells[i] = _Formula(str(getattr(formula, "text", formula)))
                yield number, cells
        except FileRejected:
            raise
        except Exception:
            raise FileRejected(
                _("The XLSX workbook is damaged and could not be read to the end.")
            ) from None
    finally:
        values_book.close()
        formula_book.close()


@dataclass(frozen=True)
class _Formula:
    """A formula cell with no saved value."""

    text: str


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                return data.decode("gb18030")
            except UnicodeDecodeError:
                pass
    raise FileRejected(
        _("The CSV file's text encoding was not recognised: save it as UTF-8 or GB18030 CSV.")
    )


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """Yield (row number, cells) from a CSV file in UTF-8 (with or without BOM) or GB18030."""
    if b"\x00" in data[:4096]:
        raise FileRejected(_("The file is not a CSV text file."))
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, list(cells)
    except csv.Error as exc:
        raise FileRejected(_("The CSV file is malformed: %(reason)s") % {"reason": exc}) from None


def file_kind(data: bytes, filename: str) -> str:
    """ "xlsx" or "csv", from the content first and the file name second."""
    name = filename.lower()
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            _("This is an old-style .xls workbook. Save it as .xlsx (Excel Workbook) or as CSV.")
        )
    if name.endswith((".xlsx", ".xlsm")):
        raise FileRejected(
            _("The file is not a readable XLSX workbook. Save it again from Excel as .xlsx.")
        )
    if name.endswith((".csv", ".txt")) or not name:
        return "csv"
    raise FileRejected(
        _("Unsupported file type: upload an Excel workbook (.xlsx) or a CSV file (.csv).")
    )


# --- Checking values --------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores codes typed as numbers as floats
    return str(value).strip()


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    text = _text(value).replace(",", "").replace("，", "")
    if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        raise ValueError
    return int(Decimal(text))


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        text = _text(value).replace(",", "").replace("，", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError from None
    if not number.is_finite() or abs(number) > MAX_AMOUNT:
        raise ValueError
    return number.quantize(Decimal("0.01"))


class _RowChecker:
    """Checks the cells of one row and records problems against the file."""

    def __init__(self, result: RegisterFile, positions: dict[str, int], labels: dict[str, str]):
        self.result = result
        self.positions = positions
        self.labels = labels
        self.row = 0
        self.failed = False

    def column(self, key: str) -> str:
        index = self.positions[key]
        return f"{self.labels[key]} ({get_column_letter(index + 1)})"

    def fail(self, key: str, message: str) -> None:
        self.result.add(Problem(message, row=self.row, column=self.column(key)))
        self.failed = True


def _check_row(
    checker: _RowChecker, number: int, cells: list[Any], seen: dict[str, int]
) -> FirmRow | None:
    checker.row, checker.failed = number, False
    get: dict[str, Any] = {}
    for key, index in checker.positions.items():
        value = cells[index] if index < len(cells) else None
        if isinstance(value, _Formula):
            checker.fail(
                key,
                _(
                    "the cell holds the formula %(formula)s with no saved value; formulas are "
                    "never calculated here. Open the file in Excel and save it, or paste the "
                    "cells as values."
                )
                % {"formula": value.text[:60]},
            )
            get[key] = _Formula
            continue
        get[key] = value

    code = uscc.normalise(_text(get.get("uscc")))
    if get.get("uscc") is not _Formula:
        found = uscc.problem(code)
        if found is not None:
            checker.fail("uscc", uscc_message(found))
        elif code in seen:
            checker.fail(
                "uscc",
                _("the code %(code)s already appears in row %(row)d; each firm once only.")
                % {"code": code, "row": seen[code]},
            )
        else:
            seen[code] = number

    name = _text(get.get("name"))
    if get.get("name") is not _Formula:
        if not name:
            checker.fail("name", _("the firm name is empty."))
        elif len(name) > Firm._meta.get_field("name").max_length:
            checker.fail(
                "name",
                _("the firm name is longer than %(max)d characters.")
                % {"max": Firm._meta.get_field("name").max_length},
            )

    region_code: str | None = None
    if "region_code" in get and get["region_code"] is not _Formula:
        region_code = _text(get["region_code"]) or None
        if region_code is not None:
            if not re.fullmatch(r"\d{6}(\d{6})?", region_code):
                checker.fail(
                    "region_code",
                    _("“%(value)s” is not an administrative division code (6 digits).")
                    % {"value": region_code[:40]},
                )
            elif region_code not in checker.result.regions:
                checker.fail(
                    "region_code",
                    _("no region with the code %(code)s is in the register.")
                    % {"code": region_code},
                )

    industry: industries.IndustryCode | None = None
    if "industry_code" in get and get["industry_code"] is not _Formula:
        raw = _text(get["industry_code"])
        if raw:
            industry = industries.parse(raw)
            if industry is None:
                checker.fail(
                    "industry_code",
                    _(
                        "“%(value)s” is not a GB/T 4754-2017 industry code; write a section "
                        "letter and a two-digit division, such as C34, or a four-digit class."
                    )
                    % {"value": raw[:40]},
                )

    employees: int | None = None
    if "employees" in get and get["employees"] is not _Formula:
        raw_value = get["employees"]
        if _text(raw_value):
            try:
                employees = _integer(raw_value)
                if employees < 0 or employees > MAX_EMPLOYEES:
                    raise ValueError
            except ValueError:
                employees = None
                checker.fail(
                    "employees",
                    _("“%(value)s” is not a whole number of persons between 0 and 10,000,000.")
                    % {"value": _text(raw_value)[:40]},
                )

    amounts: dict[str, Decimal | None] = {}
    for key in ("revenue_10k_cny", "total_assets_10k_cny"):
        amounts[key] = None
        if key in get and get[key] is not _Formula and _text(get[key]):
            try:
                amount = _amount(get[key])
                if amount < 0 or amount > MAX_AMOUNT:
                    raise ValueError
                amounts[key] = amount
            except ValueError:
                checker.fail(
                    key,
                    _("“%(value)s” is not an amount in 10,000 CNY (a number, 0 or more).")
                    % {"value": _text(get[key])[:40]},
                )

    if checker.failed:
        return None
    return FirmRow(
        row=number,
        uscc=code,
        name=name,
        region_code=region_code,
        industry=industry,
        employees=employees,
        revenue_10k_cny=amounts["revenue_10k_cny"],
        total_assets_10k_cny=amounts["total_assets_10k_cny"],
        present=frozenset(checker.positions),
    )


def _is_blank(cells: list[Any]) -> bool:
    return all(_text(c) == "" if not isinstance(c, _Formula) else False for c in cells)


def _header_positions(
    cells: list[Any],
) -> tuple[dict[str, int], dict[str, str], list[str]]:
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        text = _text(cell) if not isinstance(cell, _Formula) else ""
        if not text:
            continue
        key = _HEADER_LOOKUP.get(_header_key(text))
        if key is None:
            ignored.append(text)
            continue
        if key in positions:
            raise FileRejected(
                _("The column %(column)s appears twice in the header row.") % {"column": text}
            )
        positions[key] = index
        labels[key] = text
    return positions, labels, ignored


def _is_second_header(cells: list[Any], positions: dict[str, int]) -> bool:
    """True when the row repeats the headers (the template's English row under the Chinese)."""
    index = positions["uscc"]
    cell = cells[index] if index < len(cells) else None
    return not isinstance(cell, _Formula) and _HEADER_LOOKUP.get(_header_key(_text(cell))) == "uscc"


def read_register(data: bytes, filename: str) -> RegisterFile:
    """Read and check a register file; the result lists every problem, or the checked rows."""
    result = RegisterFile()
    try:
        _read_into(result, data, filename)
    except FileRejected as rejected:
        result.rows = []
        result.problems = [Problem(rejected.message)]
        result.more_problems = 0
    return result


def _read_into(result: RegisterFile, data: bytes, filename: str) -> None:
    if len(data) > MAX_BYTES:
        raise FileRejected(
            _("The file is %(size).1f MB; the limit is 10 MB. Split it into smaller files.")
            % {"size": len(data) / 1024 / 1024}
        )
    if not data.strip():
        raise FileRejected(_("The file is empty."))
    kind = file_kind(data, filename)
    rows = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)

    header: list[Any] | None = None
    for _number, cells in rows:
        if not _is_blank(cells):
            header = cells
            break
    if header is None:
        raise FileRejected(_("The file is empty: no header row was found."))
    positions, labels, ignored = _header_positions(header)
    missing = [COLUMN_BY_KEY[k].header_zh for k in ("uscc", "name") if k not in positions]
    if missing:
        raise FileRejected(
            _(
                "The header row lacks the column(s) %(missing)s. The first row must name the "
                "columns, in Chinese or English, as in the template."
            )
            % {"missing": "、".join(missing)}
        )
    result.ignored_headers = ignored
    result.regions = dict(Region.objects.filter(code__isnull=False).values_list("code", "id"))

    checker = _RowChecker(result, positions, labels)
    seen: dict[str, int] = {}
    data_rows = 0
    first = True
    for number, cells in rows:
        if _is_blank(cells):
            continue
        if first:
            first = False
            if _is_second_header(cells, positions):  # the template's English header row
                continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise FileRejected(
                _("The file has more than %(max)s firm rows. Split it into smaller files.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        row = _check_row(checker, number, cells, seen)
        if row is not None:
            result.rows.append(row)
    if data_rows == 0:
        raise FileRejected(_("The file has a header row but no firms under it."))
    codes = [r.uscc for r in result.rows]
    for start in range(0, len(codes), 900):
        chunk = codes[start : start + 900]
        result.existing.update(Firm.objects.filter(uscc__in=chunk).values_list("uscc", "id"))
