"""Reading and checking a firm register file (XLSX or CSV) before anything is written.

`read_register(data, filename)` turns the bytes of an upload into checked rows, or a list of
problems that each name the row (as Excel numbers it), the column and the reason, in the
active language. It never writes: `clusters.services.register_import` re-runs it inside the
transaction that writes, so a commit sees exactly what it imports.

Safety: formulas are never evaluated. In an XLSX file a formula cell counts only through the
value Excel saved with it; a formula without a saved value is an error. Files are size-, row-
and column-limited while they are parsed, whatever they declare, an XLSX's unpacked size is
capped before it is inflated, and numbers are bounded by length before they are converted.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter

from clusters import contacts, industries, uscc
from clusters.models import Firm, Region
from clusters.validators import phone_message, uscc_message

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
# Hard caps while reading, whatever a file declares: rows counted blank ones included, cells
# per row, and the unpacked size of an XLSX (all members, from the zip's declared sizes). The
# unpacked size is capped in proportion to the upload too, so parsing work stays linear in
# what was sent: a few kilobytes cannot unpack into minutes of parsing.
MAX_SHEET_ROWS = 60_000
MAX_COLUMNS = 200
MAX_UNZIPPED = 64 * 1024 * 1024
MAX_UNZIP_RATIO = 100
UNZIP_ALLOWANCE = 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_SHARED_STRINGS = 500_000
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
    Column(
        "contact_person",
        "联系人",
        gettext_lazy("Contact person (who receives the invitations)"),
        False,
        ("联系人姓名", "contact", "contactname"),
    ),
    Column(
        "contact_email",
        "电子邮箱",
        gettext_lazy("Contact e-mail (one address; invitations and reminders go here)"),
        False,
        ("邮箱", "联系邮箱", "电子邮件", "email", "e-mail"),
    ),
    Column(
        "contact_phone",
        "联系电话",
        gettext_lazy("Contact telephone (mobile, or landline with area code)"),
        False,
        ("电话", "手机", "手机号码", "phone", "telephone"),
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
    contact_person: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    present: frozenset[str] = frozenset()  # the column keys the file has


@dataclass
class RegisterFile:
    """The outcome of reading a file: checked rows, problems, and what is new or known."""

    rows: list[FirmRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0  # problems beyond MAX_ERRORS, counted only
    ignored_headers: list[str] = field(default_factory=list)
    existing: dict[str, int] = field(default_factory=dict)  # uscc → id of a firm in scope
    regions: dict[str, int] = field(default_factory=dict)  # region code → region id
    uscc_column: str = ""  # how messages name the code column, e.g. "统一社会信用代码 (A)"

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
        """Rows whose code is not among the firms the importer sees (maybe nowhere at all)."""
        return sum(1 for r in self.rows if r.uscc not in self.existing)

    @property
    def update_count(self) -> int:
        """Rows that update a firm the importer already sees."""
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


# XLSX is read with the standard library's zip reader and a streaming XML parser, not openpyxl:
# openpyxl trusts the sheet's declared <dimension> and pads every row to it, and builds every
# blank row, so a file of a few kilobytes could cost minutes. Here the declared dimension is
# ignored; rows (blank ones included) and columns have hard caps checked while parsing, and the
# unpacked size is capped from the zip's declared sizes before anything is inflated (the zip
# reader never returns more than a member declares). XML with a DTD is refused (entity bombs).

_MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_REL_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d{0,7})")
_SHORT_NUMBER = 40  # a numeric cell longer than this stays text, for the checks to refuse


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _too_big(size: float, limit: float) -> FileRejected:
    return FileRejected(
        _(
            "The workbook unpacks to %(size).1f MB, more than a register file of this size can "
            "hold (at most %(limit).1f MB here). Save it again from Excel as .xlsx, or as CSV."
        )
        % {"size": size / 1024 / 1024, "limit": limit / 1024 / 1024}
    )


def _too_many_rows() -> FileRejected:
    return FileRejected(
        _(
            "The sheet has more than %(max)s rows, blank ones included; the limit is %(firms)s "
            "firms. Delete the empty rows under the firms, or split the file."
        )
        % {"max": f"{MAX_SHEET_ROWS:,}", "firms": f"{MAX_ROWS:,}"}
    )


def _too_many_columns(where: str) -> FileRejected:
    return FileRejected(
        _(
            "%(where)s: a register has at most %(max)d columns. Delete the unused columns on "
            "the right, or save only the register's columns."
        )
        % {"where": where, "max": MAX_COLUMNS}
    )


class _Workbook:
    """The parts of an XLSX package that a register needs: the first worksheet, shared strings."""

    def __init__(self, data: bytes) -> None:
        import zipfile

        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except Exception:
            raise FileRejected(_not_xlsx()) from None
        if len(infos) > MAX_ZIP_MEMBERS:
            raise FileRejected(_not_xlsx())
        unpacked = sum(info.file_size for info in infos)
        limit = min(MAX_UNZIPPED, MAX_UNZIP_RATIO * len(data) + UNZIP_ALLOWANCE)
        if unpacked > limit:
            raise _too_big(unpacked, limit)
        self.names = {info.filename for info in infos}
        self.book = self._target("", self._relations("_rels/.rels"), "/officeDocument")
        if self.book is None:
            raise FileRejected(_not_xlsx())
        folder, _slash, base = self.book.rpartition("/")
        relations = self._relations(
            f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
        )
        self.sheet = None
        for sheet in self._xml(self.book).iter():
            if _local(sheet.tag) != "sheet":
                continue
            rid = next(
                (sheet.get(f"{{{ns}}}id") for ns in _REL_NS if sheet.get(f"{{{ns}}}id")), None
            )
            kind, target = relations.get(rid or "", ("", ""))
            if kind.endswith("/worksheet"):
                self.sheet = self._resolve(folder, target)
                break
        if self.sheet is None or self.sheet not in self.names:
            raise FileRejected(_("The workbook has no worksheet."))
        self.shared_path = self._target(folder, relations, "/sharedStrings")

    def _open(self, name: str) -> Any:
        if name not in self.names:
            raise FileRejected(_not_xlsx())
        return self.zip.open(name)

    def _xml(self, name: str) -> Any:
        from defusedxml import ElementTree

        with self._open(name) as handle:
            return ElementTree.parse(handle, forbid_dtd=True).getroot()

    def _relations(self, name: str) -> dict[str, tuple[str, str]]:
        if name not in self.names:
            return {}
        return {
            rel.get("Id", ""): (rel.get("Type", ""), rel.get("Target", ""))
            for rel in self._xml(name).iter(_PKG_REL)
        }

    def _target(self, folder: str, relations: dict[str, tuple[str, str]], kind: str) -> str | None:
        for rel_kind, target in relations.values():
            if rel_kind.endswith(kind):
                return self._resolve(folder, target)
        return None

    @staticmethod
    def _resolve(folder: str, target: str) -> str:
        import posixpath

        if target.startswith("/"):
            return target.lstrip("/")
        return posixpath.normpath(posixpath.join(folder, target)) if folder else target

    def _events(self, name: str) -> Iterator[Any]:
        from defusedxml import ElementTree

        with self._open(name) as handle:
            for _event, element in ElementTree.iterparse(handle, ("end",), forbid_dtd=True):
                yield element

    def shared_strings(self) -> list[str]:
        strings: list[str] = []
        if self.shared_path is None or self.shared_path not in self.names:
            return strings
        for element in self._events(self.shared_path):
            if _local(element.tag) == "si":
                if len(strings) >= MAX_SHARED_STRINGS:
                    raise FileRejected(_not_xlsx())
                strings.append(_rich_text(element))
                element.clear()
        return strings

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        strings = self.shared_strings()
        cells: dict[int, Any] = {}
        number = count = in_row = 0
        column = -1
        for element in self._events(self.sheet or ""):
            tag = _local(element.tag)
            if tag == "c":
                column = _column_of(element.get("r"), column)
                in_row += 1
                if column >= MAX_COLUMNS or in_row > MAX_COLUMNS:
                    raise _too_many_columns(
                        _("Row %(row)d has a cell in column %(column)s")
                        % {"row": number + 1, "column": get_column_letter(min(column, 16383) + 1)}
                    )
                cells[column] = _cell_value(element, strings)
                element.clear()
            elif tag == "row":
                count += 1
                if count > MAX_SHEET_ROWS:
                    raise _too_many_rows()
                declared = element.get("r")
                number = int(declared) if declared and declared.isdigit() else number + 1
                row = [None] * (max(cells) + 1 if cells else 0)
                for index, value in cells.items():
                    row[index] = value
                element.clear()
                cells, column, in_row = {}, -1, 0
                yield number, row

    def close(self) -> None:
        self.zip.close()


def _not_xlsx() -> str:
    return _("The file is not a readable XLSX workbook. Save it again from Excel as .xlsx.")


def _column_of(ref: str | None, previous: int) -> int:
    """The 0-based column of a cell reference such as "C12" (the next column when absent)."""
    if not ref:
        return previous + 1
    match = _CELL_REF.match(ref)
    if match is None:
        raise FileRejected(_not_xlsx())
    index = 0
    for letter in match.group(1):
        index = index * 26 + ord(letter) - 64
    return index - 1


def _rich_text(element: Any) -> str:
    """The text of a shared or inline string: its <t>, or its runs' <t>, never phonetic hints."""
    parts: list[str] = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _number(text: str) -> Any:
    """A numeric cell's saved text as int or float, as openpyxl gives it; long ones stay text."""
    text = text.strip()
    if len(text) > _SHORT_NUMBER:
        return text
    try:
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        return text


def _cell_value(element: Any, strings: list[str]) -> Any:
    """A cell's value: what Excel saved. A formula without a saved value becomes _Formula."""
    kind = element.get("t", "n")
    saved = formula = inline = None
    for child in element:
        tag = _local(child.tag)
        if tag == "v":
            saved = child.text or ""
        elif tag == "f":
            formula = child.text or ""
        elif tag == "is":
            inline = _rich_text(child)
    if kind == "inlineStr":
        return inline
    if not saved:  # no <v>, or an empty one (openpyxl writes <v></v> under a formula)
        if formula is not None:
            # A formula Excel never calculated: its value is unknown, and we never evaluate.
            return _Formula("=" + formula if formula else "=…")
        return None
    if kind == "s":
        try:
            return strings[int(saved)]
        except (ValueError, IndexError):
            raise FileRejected(
                _("The XLSX workbook is damaged and could not be read to the end.")
            ) from None
    if kind == "b":
        return saved.strip() == "1"
    if kind in ("str", "e", "d"):
        return saved
    return _number(saved)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """Yield (Excel row number, cell values) from the first sheet, never evaluating formulas."""
    try:
        book = _Workbook(data)
    except FileRejected:
        raise
    except Exception:  # broken zip, XML, a DTD: all mean the same here
        raise FileRejected(_not_xlsx()) from None
    try:
        yield from book.rows()
    except FileRejected:
        raise
    except Exception:
        raise FileRejected(
            _("The XLSX workbook is damaged and could not be read to the end.")
        ) from None
    finally:
        book.close()


@dataclass(frozen=True)
class _Formula:
    """A formula cell with no saved value."""

    text: str


def _garbled_line(text: str) -> int:
    """The first line whose non-ASCII text does not read as Chinese; 0 when all do.

    GB18030 decodes almost any bytes, so a Big5, Shift-JIS or Windows-1252 file comes through
    as nonsense rather than an error: private-use characters, kana, Greek or Cyrillic letters,
    and rare ideographs outside GB2312. Firm names are nearly all GB2312 hanzi and punctuation.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        usual = unusual = 0
        for char in line:
            if char < "\x80":
                continue
            if "\ue000" <= char <= "\uf8ff":
                return number
            try:
                lead = char.encode("gb2312")[0]
            except UnicodeEncodeError:
                unusual += 1
                continue
            if lead >= 0xB0 or lead in (0xA1, 0xA2, 0xA3):
                usual += 1
            else:
                unusual += 1  # kana, Greek, Cyrillic, pinyin, box drawing
        if unusual and unusual * 3 >= usual:
            return number
    return 0


def _decode(data: bytes) -> str:
    expected = _(
        "Save it as UTF-8 CSV (in Excel: “CSV UTF-8”) or as GB18030/GBK CSV; other "
        "encodings such as Big5, Shift-JIS or Windows-1252 are not read."
    )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileRejected(
            _("The CSV file is neither UTF-8 nor GB18030 text. %(expected)s")
            % {"expected": expected}
        ) from None
    line = _garbled_line(text)
    if line:
        sample = text.splitlines()[line - 1][:40]
        raise FileRejected(
            _(
                "The CSV file is neither UTF-8 nor GB18030 text: read as GB18030, line "
                "%(line)d comes out garbled (“%(sample)s”). %(expected)s"
            )
            % {"line": line, "sample": sample, "expected": expected}
        )
    return text


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
            if number > MAX_SHEET_ROWS:
                raise _too_many_rows()
            if len(cells) > MAX_COLUMNS:
                raise _too_many_columns(
                    _("Row %(row)d has %(count)s cells")
                    % {"row": number, "count": f"{len(cells):,}"}
                )
            yield number, cells
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


# Numbers are checked by length and form before any conversion: int() and Decimal arithmetic on
# a cell of a million digits take seconds to minutes.
_INTEGER = re.compile(r"[+-]?\d{1,18}(\.0{1,6})?")
_AMOUNT = re.compile(r"[+-]?(\d{1,20}(\.\d{0,10})?|\.\d{1,10})([eE][+-]?\d{1,3})?")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value  # from an XLSX number cell, at most _SHORT_NUMBER digits
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    text = _text(value).replace(",", "").replace("，", "")
    if len(text) > 26 or not _INTEGER.fullmatch(text):
        raise ValueError
    return int(text.partition(".")[0])


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError
        number = Decimal(str(value))
    else:
        text = _text(value).replace(",", "").replace("，", "")
        if len(text) > 36 or not _AMOUNT.fullmatch(text):
            raise ValueError
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
        elif len(name) > (Firm._meta.get_field("name").max_length or 0):
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

    contact = _check_contact(checker, get)

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
        contact_person=contact.get("contact_person"),
        contact_email=contact.get("contact_email"),
        contact_phone=contact.get("contact_phone"),
        present=frozenset(checker.positions),
    )


def _check_contact(checker: _RowChecker, get: dict[str, Any]) -> dict[str, str]:
    """The row's contact cells that are filled in and valid; problems go to the checker."""
    return check_contact(get, checker.fail)


def check_contact(get: dict[str, Any], fail: Callable[[str, str], None]) -> dict[str, str]:
    """The contact cells (`contact_person`, `contact_email`, `contact_phone`) of a row that are
    filled in and valid, normalised; each problem goes to `fail(key, message)`."""
    found: dict[str, str] = {}
    for key in ("contact_person", "contact_email", "contact_phone"):
        if key in get and get[key] is not _Formula and _text(get[key]):
            found[key] = _text(get[key])
    person = found.get("contact_person", "")
    if len(person) > contacts.MAX_PERSON:
        fail(
            "contact_person",
            _("the name is longer than %(max)d characters.") % {"max": contacts.MAX_PERSON},
        )
    email = found.get("contact_email", "")
    if email:
        if len(email) > contacts.MAX_EMAIL:
            fail(
                "contact_email",
                _("the address is longer than %(max)d characters.") % {"max": contacts.MAX_EMAIL},
            )
        elif re.search(r"[\s,;，；、]", email):
            fail(
                "contact_email",
                _("“%(value)s” holds more than one address; give one address per firm.")
                % {"value": email[:60]},
            )
        else:
            try:
                validate_email(email)
            except ValidationError:
                fail(
                    "contact_email",
                    _("“%(value)s” is not an e-mail address such as name@example.com.")
                    % {"value": email[:60]},
                )
            else:
                local, _at, domain = email.rpartition("@")
                found["contact_email"] = f"{local}@{domain.lower()}"
    phone = found.get("contact_phone", "")
    if phone:
        problem = contacts.phone_problem(phone)
        if problem is not None:
            fail("contact_phone", f"“{phone[:40]}”: {phone_message(problem)}")
        else:
            found["contact_phone"] = contacts.normalise_phone(phone)
    return found


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


def read_register(
    data: bytes, filename: str, *, visible: Sequence[QuerySet[Firm]] | None = None
) -> RegisterFile:
    """Read and check a register file; the result lists every problem, or the checked rows.

    `visible` is the firms the importer may see and change, as querysets from the selectors
    whose union is that scope (the cheapest first: the target cluster's firms, then
    `firms_visible_to`). Only their codes count as "already there". A code of any other firm
    counts as new, exactly like a code no firm has, so that reading never tells whether a code
    exists out of scope. None means every firm (the command line's operator).
    """
    result = RegisterFile()
    try:
        _read_into(result, data, filename, visible)
    except FileRejected as rejected:
        result.rows = []
        result.problems = [Problem(rejected.message)]
        result.more_problems = 0
    return result


def _read_into(
    result: RegisterFile, data: bytes, filename: str, visible: Sequence[QuerySet[Firm]] | None
) -> None:
    rows = sheet_rows(data, filename)
    header = first_filled_row(rows)
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
    result.regions = {
        code: pk
        for code, pk in Region.objects.filter(code__isnull=False).values_list("code", "id")
        if code is not None
    }

    checker = _RowChecker(result, positions, labels)
    result.uscc_column = checker.column("uscc")
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
    found: dict[str, int] = {}
    for start in range(0, len(codes), 900):
        chunk = codes[start : start + 900]
        found.update(Firm.objects.filter(uscc__in=chunk).values_list("uscc", "id"))
    result.existing = found if visible is None else _in_scope(found, visible)


def _in_scope(found: dict[str, int], visible: Sequence[QuerySet[Firm]]) -> dict[str, int]:
    """The part of `found` (code → firm id) that lies in the union of the `visible` querysets."""
    remaining = set(found.values())
    kept: set[int] = set()
    for queryset in visible:
        if not remaining:
            break
        ids = sorted(remaining)
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            kept.update(queryset.filter(pk__in=chunk).values_list("pk", flat=True))
        remaining -= kept
    return {code: pk for code, pk in found.items() if pk in kept}


# --- Shared with other registers (programmes.importing reads the provider register) -----------


def sheet_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    """The (row number, cells) of an uploaded XLSX or CSV file, with the register's limits.

    Raises FileRejected for a file over MAX_BYTES, an empty one, or one of another kind; the
    rows themselves are read lazily, each cap checked while parsing.
    """
    if len(data) > MAX_BYTES:
        raise FileRejected(
            _("The file is %(size).1f MB; the limit is 10 MB. Split it into smaller files.")
            % {"size": len(data) / 1024 / 1024}
        )
    if not data.strip():
        raise FileRejected(_("The file is empty."))
    kind = file_kind(data, filename)
    return _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)


def first_filled_row(rows: Iterator[tuple[int, list[Any]]]) -> list[Any]:
    """The first non-blank row (the header); FileRejected when there is none."""
    for _number, cells in rows:
        if not _is_blank(cells):
            return cells
    raise FileRejected(_("The file is empty: no header row was found."))


def header_key(text: str) -> str:
    """A header cell reduced for matching (see `_header_key`)."""
    return _header_key(text)


def cell_text(value: Any) -> str:
    """A cell's value as stripped text ("" for a blank cell; 12.0 reads as "12")."""
    return _text(value)


def is_unsaved_formula(value: Any) -> bool:
    """True for a formula cell that Excel never calculated (its value is unknown)."""
    return isinstance(value, _Formula)


def is_blank_row(cells: list[Any]) -> bool:
    """True when every cell of the row is blank."""
    return _is_blank(cells)


def unsaved_formula_message(value: Any) -> str:
    """The problem text for a formula cell without a saved value."""
    return _(
        "the cell holds the formula %(formula)s with no saved value; formulas are "
        "never calculated here. Open the file in Excel and save it, or paste the "
        "cells as values."
    ) % {"formula": value.text[:60]}
