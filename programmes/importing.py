"""Reading and checking a provider register file (XLSX or CSV) before anything is written.

`read_providers(data, filename, managed=…, regions=…)` turns an upload into checked rows, or
a list of problems that each name the row (as Excel numbers it), the column and the reason, in
the active language. It never writes: `programmes.register.provider_import` re-runs it inside
the transaction that writes, so a commit sees exactly what it imports.

The file itself is read by the firm register's reader (`clusters.importing.sheet_rows`), with
its limits: 10 MB, capped rows and columns while parsing, formulas never evaluated, UTF-8 or
GB18030 CSV. The identifiers and contacts are checked with the firm register's rules and words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter

from clusters import importing as sheets
from clusters import uscc
from clusters.importing import FileRejected, Problem
from clusters.models import Region
from clusters.validators import uscc_message
from programmes.models import Provider

MAX_ROWS = 5_000  # a city registers dozens to hundreds of providers
MAX_PRODUCTS = Provider._meta.get_field("products").max_length or 2000
MAX_NAME = Provider._meta.get_field("name").max_length or 200
MAX_ERRORS = sheets.MAX_ERRORS

Kind = Provider.Kind

# The words a file may use for a provider's type, reduced like headers (no blanks, lower case).
KIND_WORDS: dict[str, str] = {
    "chainleader": Kind.CHAIN_LEADER,
    "chain_leader": Kind.CHAIN_LEADER,
    "链主": Kind.CHAIN_LEADER,
    "链主企业": Kind.CHAIN_LEADER,
    "integrator": Kind.INTEGRATOR,
    "systemintegrator": Kind.INTEGRATOR,
    "集成商": Kind.INTEGRATOR,
    "系统集成商": Kind.INTEGRATOR,
    "product": Kind.PRODUCT,
    "小快轻准": Kind.PRODUCT,
    "小快轻准产品": Kind.PRODUCT,
    "小快轻准产品服务商": Kind.PRODUCT,
    "smallfastlightandpreciseproduct": Kind.PRODUCT,
}
# What the template writes in the type column, per type (the importer reads all of KIND_WORDS).
KIND_HEADER_ZH = {
    Kind.CHAIN_LEADER: "链主企业",
    Kind.INTEGRATOR: "系统集成商",
    Kind.PRODUCT: "小快轻准产品",
}


@dataclass(frozen=True)
class Column:
    """One column of the provider file: its key, its Chinese header and its other names."""

    key: str
    header_zh: str
    label: Any  # lazy translatable description, shown in the template's notes and on the page
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
    Column(
        "name",
        "服务商名称",
        gettext_lazy("Provider name"),
        True,
        ("名称", "企业名称", "单位名称"),
    ),
    Column(
        "kind",
        "服务商类型",
        gettext_lazy("Type: 链主企业 (chain leader), 系统集成商 (integrator) or 小快轻准产品"),
        True,
        ("类型", "type"),
    ),
    Column(
        "products",
        "产品和服务",
        gettext_lazy("Products and services (at most 2,000 characters)"),
        False,
        ("产品", "主要产品", "产品与服务"),
    ),
    Column(
        "regions_served",
        "服务地区代码",
        gettext_lazy("Regions served: administrative division codes, separated by 、 or commas"),
        False,
        ("服务地区", "服务区域"),
    ),
    Column(
        "contact_person",
        "联系人",
        gettext_lazy("Contact person"),
        False,
        ("联系人姓名", "contact", "contactname"),
    ),
    Column(
        "contact_email",
        "电子邮箱",
        gettext_lazy("Contact e-mail"),
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
_HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.key, _column.header_zh, *_column.aliases):
        _HEADER_LOOKUP[sheets.header_key(_name)] = _column.key
_CODE_SPLIT = re.compile(r"[\s,;，；、/]+")


@dataclass(frozen=True)
class ProviderRow:
    """A checked row, ready to write. `regions_served` is None when the file has no such
    column (the entry's regions are then left as they are)."""

    row: int
    uscc: str
    name: str
    kind: str
    products: str | None = None
    regions_served: tuple[int, ...] | None = None
    contact_person: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    present: frozenset[str] = frozenset()


@dataclass
class ProviderFile:
    """The outcome of reading a file: checked rows and problems, and which rows update."""

    rows: list[ProviderRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0
    ignored_headers: list[str] = field(default_factory=list)
    existing: dict[str, int] = field(default_factory=dict)  # uscc → id of a managed provider

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
        """Rows that add a provider to the register."""
        return sum(1 for r in self.rows if r.uscc not in self.existing)

    @property
    def update_count(self) -> int:
        """Rows that update a provider the importer already keeps."""
        return sum(1 for r in self.rows if r.uscc in self.existing)

    def add(self, problem: Problem) -> None:
        """Record a problem, listing at most MAX_ERRORS of them."""
        if len(self.problems) < MAX_ERRORS:
            self.problems.append(problem)
        else:
            self.more_problems += 1


class _Row:
    """The cells of one row, by key, and the problems found in it."""

    def __init__(self, result: ProviderFile, positions: dict[str, int], labels: dict[str, str]):
        self.result = result
        self.positions = positions
        self.labels = labels
        self.number = 0
        self.failed = False
        self.cells: dict[str, Any] = {}

    def load(self, number: int, cells: list[Any]) -> None:
        self.number, self.failed, self.cells = number, False, {}
        for key, index in self.positions.items():
            value = cells[index] if index < len(cells) else None
            if sheets.is_unsaved_formula(value):
                self.fail(key, sheets.unsaved_formula_message(value))
                continue
            self.cells[key] = value

    def column(self, key: str) -> str:
        return f"{self.labels[key]} ({get_column_letter(self.positions[key] + 1)})"

    def fail(self, key: str, message: str) -> None:
        self.result.add(Problem(message, row=self.number, column=self.column(key)))
        self.failed = True

    def text(self, key: str) -> str:
        return sheets.cell_text(self.cells.get(key))

    def has(self, key: str) -> bool:
        """True when the column exists and the cell is not an unsaved formula."""
        return key in self.cells


def _header(cells: list[Any]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        text = "" if sheets.is_unsaved_formula(cell) else sheets.cell_text(cell)
        if not text:
            continue
        key = _HEADER_LOOKUP.get(sheets.header_key(text))
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


def _check_row(row: _Row, seen: dict[str, int], regions: dict[str, int]) -> ProviderRow | None:
    code = uscc.normalise(row.text("uscc"))
    if row.has("uscc"):
        found = uscc.problem(code)
        if found is not None:
            row.fail("uscc", uscc_message(found))
        elif code in seen:
            row.fail(
                "uscc",
                _("the code %(code)s already appears in row %(row)d; each provider once only.")
                % {"code": code, "row": seen[code]},
            )
        else:
            seen[code] = row.number

    name = row.text("name")
    if row.has("name"):
        if not name:
            row.fail("name", _("the provider name is empty."))
        elif len(name) > MAX_NAME:
            row.fail("name", _("the name is longer than %(max)d characters.") % {"max": MAX_NAME})

    kind = ""
    if row.has("kind"):
        raw = row.text("kind")
        kind = KIND_WORDS.get(sheets.header_key(raw), "")
        if not raw:
            row.fail("kind", _("the type is empty: write 链主企业, 系统集成商 or 小快轻准产品."))
        elif not kind:
            row.fail(
                "kind",
                _("“%(value)s” is not a provider type: write 链主企业, 系统集成商 or 小快轻准产品.")
                % {"value": raw[:40]},
            )

    products: str | None = None
    if row.has("products"):
        products = row.text("products")
        if len(products) > MAX_PRODUCTS:
            row.fail(
                "products",
                _("the text is longer than %(max)d characters.") % {"max": MAX_PRODUCTS},
            )

    served: tuple[int, ...] | None = None
    if row.has("regions_served"):
        ids: list[int] = []
        for part in _CODE_SPLIT.split(row.text("regions_served")):
            if not part:
                continue
            if part not in regions:
                row.fail(
                    "regions_served",
                    _(
                        "“%(code)s” is not the code of a region whose register you keep; use "
                        "6-digit administrative division codes such as 320583."
                    )
                    % {"code": part[:20]},
                )
                break
            if regions[part] not in ids:
                ids.append(regions[part])
        served = tuple(ids)

    contact = sheets.check_contact(row.cells, row.fail)

    if row.failed:
        return None
    return ProviderRow(
        row=row.number,
        uscc=code,
        name=name,
        kind=kind,
        products=products,
        regions_served=served,
        contact_person=contact.get("contact_person"),
        contact_email=contact.get("contact_email"),
        contact_phone=contact.get("contact_phone"),
        present=frozenset(row.positions),
    )


def _is_second_header(cells: list[Any], positions: dict[str, int]) -> bool:
    """True when the row repeats the headers (the template's English row under the Chinese)."""
    index = positions["uscc"]
    cell = cells[index] if index < len(cells) else None
    if sheets.is_unsaved_formula(cell):
        return False
    return _HEADER_LOOKUP.get(sheets.header_key(sheets.cell_text(cell))) == "uscc"


def read_providers(
    data: bytes,
    filename: str,
    *,
    managed: QuerySet[Provider],
    regions: QuerySet[Region],
) -> ProviderFile:
    """Read and check a provider file; the result lists every problem, or the checked rows.

    `managed` is the providers the importer keeps (a code of theirs updates the entry);
    `regions` the regions whose codes the file may name as served. A code registered by
    another region's officials is refused: that entry is theirs to change.
    """
    result = ProviderFile()
    try:
        _read_into(result, data, filename, managed, regions)
    except FileRejected as rejected:
        result.rows = []
        result.problems = [Problem(rejected.message)]
        result.more_problems = 0
    return result


def _read_into(
    result: ProviderFile,
    data: bytes,
    filename: str,
    managed: QuerySet[Provider],
    regions: QuerySet[Region],
) -> None:
    rows: Iterator[tuple[int, list[Any]]] = sheets.sheet_rows(data, filename)
    positions, labels, ignored = _header(sheets.first_filled_row(rows))
    missing = [COLUMN_BY_KEY[k].header_zh for k in ("uscc", "name", "kind") if k not in positions]
    if missing:
        raise FileRejected(
            _(
                "The header row lacks the column(s) %(missing)s. The first row must name the "
                "columns, in Chinese or English, as in the template."
            )
            % {"missing": "、".join(missing)}
        )
    result.ignored_headers = ignored
    codes = {
        code: pk
        for code, pk in regions.filter(code__isnull=False).values_list("code", "id")
        if code
    }
    row = _Row(result, positions, labels)
    seen: dict[str, int] = {}
    count = 0
    first = True
    for number, cells in rows:
        if sheets.is_blank_row(cells):
            continue
        if first:
            first = False
            if _is_second_header(cells, positions):
                continue
        count += 1
        if count > MAX_ROWS:
            raise FileRejected(
                _("The file has more than %(max)s provider rows. Split it into smaller files.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        row.load(number, cells)
        checked = _check_row(row, seen, codes)
        if checked is not None:
            result.rows.append(checked)
    if count == 0:
        raise FileRejected(_("The file has a header row but no providers under it."))
    wanted = [r.uscc for r in result.rows]
    known = dict(Provider.objects.filter(uscc__in=wanted).values_list("uscc", "id"))
    kept = set(managed.filter(pk__in=known.values()).values_list("pk", flat=True))
    result.existing = {code: pk for code, pk in known.items() if pk in kept}
    for checked in list(result.rows):
        if checked.uscc in known and checked.uscc not in result.existing:
            result.add(
                Problem(
                    _(
                        "a provider with this code is in another region's register; only its "
                        "officials can change it. Remove the row."
                    ),
                    row=checked.row,
                    column=row.column("uscc"),
                )
            )
            result.rows.remove(checked)


def template_columns() -> list[Column]:
    """The columns of the downloadable template, in order."""
    return list(COLUMNS)
