"""Writes of the provider register: add and edit an entry, import a file, and its template.

These are services (STYLE.md: writes in services, `@transaction.atomic`); they live in their
own module beside `programmes/services.py`, which holds the programme's rules, so that the
register's workflow can change without touching those rules.

Only officials of a region keep its register (`selectors.regions_managed_by`,
`providers_managed_by`); a refusal raises `ProgrammeRuleError` with a translated sentence.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from clusters.importing import Problem
from clusters.models import Region
from clusters.sheet_layout import write_table
from clusters.spreadsheets import guard_cell, text_cell
from programmes import importing, selectors
from programmes.models import Provider
from programmes.services import ProgrammeRuleError

FIELDS = (
    "uscc",
    "name",
    "kind",
    "products",
    "contact_person",
    "contact_email",
    "contact_phone",
)


def _check_region(user: Any, region: Region) -> None:
    if not selectors.regions_managed_by(user).filter(pk=region.pk).exists():
        raise ProgrammeRuleError(
            _("You do not keep the provider register of %(region)s.") % {"region": region.name},
            field="region",
        )


def _check_served(user: Any, regions: Iterable[Region]) -> list[Region]:
    wanted = list(regions)
    managed = set(
        selectors.regions_managed_by(user)
        .filter(pk__in=[r.pk for r in wanted])
        .values_list("pk", flat=True)
    )
    outside = [r for r in wanted if r.pk not in managed]
    if outside:
        raise ProgrammeRuleError(
            _("%(region)s is not a region whose register you keep.") % {"region": outside[0].name},
            field="regions_served",
        )
    return wanted


@transaction.atomic
def provider_create(
    *, region: Region, user: Any, regions_served: Iterable[Region] = (), **fields: Any
) -> Provider:
    """Add a provider to the register of `region`; returns it."""
    _check_region(user, region)
    served = _check_served(user, regions_served)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a provider field: {sorted(unknown)}")
    if Provider.objects.filter(uscc=fields.get("uscc", "")).exists():
        raise ProgrammeRuleError(
            _("A provider with this credit code is already registered."), field="uscc"
        )
    try:
        with transaction.atomic():
            provider = Provider.objects.create(region=region, **fields)
    except IntegrityError:
        raise ProgrammeRuleError(
            _("A provider with this credit code is already registered."), field="uscc"
        ) from None
    provider.regions_served.set(served)
    return provider


@transaction.atomic
def provider_update(
    provider: Provider,
    *,
    user: Any,
    region: Region | None = None,
    regions_served: Iterable[Region] | None = None,
    **fields: Any,
) -> Provider:
    """Change a register entry that `user` keeps; returns it."""
    if not selectors.providers_managed_by(user).filter(pk=provider.pk).exists():
        raise ProgrammeRuleError(_("This provider is not in a register you keep."))
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a provider field: {sorted(unknown)}")
    if "uscc" in fields and (
        Provider.objects.filter(uscc=fields["uscc"]).exclude(pk=provider.pk).exists()
    ):
        raise ProgrammeRuleError(
            _("A provider with this credit code is already registered."), field="uscc"
        )
    if region is not None:
        _check_region(user, region)
        provider.region = region
    for name, value in fields.items():
        setattr(provider, name, value)
    provider.save()
    if regions_served is not None:
        provider.regions_served.set(_check_served(user, regions_served))
    return provider


# --- Import -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderImportOutcome:
    """What an import wrote."""

    rows: int
    created: int
    updated: int


class ProviderImportRejected(Exception):
    """The file cannot be imported; `problems` says why (nothing was written)."""

    def __init__(self, problems: list[Problem], more: int = 0) -> None:
        super().__init__("; ".join(str(p) for p in problems[:3]))
        self.problems = problems
        self.more = more


def provider_file_check(
    *, region: Region, user: Any, data: bytes, filename: str
) -> importing.ProviderFile:
    """Read and check a provider file for `region`'s register as `user`; writes nothing."""
    _check_region(user, region)
    return importing.read_providers(
        data,
        filename,
        managed=selectors.providers_managed_by(user),
        regions=selectors.regions_managed_by(user),
    )


@transaction.atomic
def provider_import(
    *, region: Region, user: Any, data: bytes, filename: str
) -> ProviderImportOutcome:
    """Import a provider file into `region`'s register, all or nothing.

    A code the user's registers already hold updates that entry (a blank cell, or a column the
    file lacks, keeps the stored value); any other code adds a provider to `region`.
    """
    checked = provider_file_check(region=region, user=user, data=data, filename=filename)
    if not checked.ok:
        raise ProviderImportRejected(checked.problems, checked.more_problems)
    created = updated = 0
    for row in checked.rows:
        values: dict[str, Any] = {"name": row.name, "kind": row.kind}
        for key in ("products", "contact_person", "contact_email", "contact_phone"):
            value = getattr(row, key)
            if value:
                values[key] = value
        existing = checked.existing.get(row.uscc)
        # Saved one by one, not in bulk, so that every entry lands in the audit trail.
        if existing is None:
            provider = Provider(uscc=row.uscc, region=region, **values)
            created += 1
        else:
            provider = Provider.objects.select_for_update().get(pk=existing)
            for name, value in values.items():
                setattr(provider, name, value)
            updated += 1
        try:
            with transaction.atomic():
                provider.save()
        except IntegrityError:
            raise ProviderImportRejected(
                [Problem(_("The register changed while this file was being imported. Try again."))]
            ) from None
        if row.regions_served is not None and row.regions_served:
            provider.regions_served.set(row.regions_served)
    return ProviderImportOutcome(rows=len(checked.rows), created=created, updated=updated)


_BOLD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDE6F4")


def _header(sheet: Any, values: Iterable[str], *, fill: bool) -> list[WriteOnlyCell]:
    cells = []
    for value in values:
        cell = guard_cell(WriteOnlyCell(sheet, value=value))
        cell.font = _BOLD
        if fill:
            cell.fill = _FILL
        cells.append(cell)
    return cells


def provider_template() -> bytes:
    """An empty provider register workbook: two header rows, and a sheet of instructions."""
    columns = importing.template_columns()
    book = Workbook(write_only=True)
    data = book.create_sheet(_("Providers"))
    write_table(
        data,
        [
            _header(data, [c.header_zh for c in columns], fill=True),
            _header(data, [c.key for c in columns], fill=False),
        ],
        [],
        at_least=[22, 34, 14],
    )
    notes = book.create_sheet(_("Instructions"))
    head = [_("Chinese header"), _("English header"), _("Required"), _("What to enter")]
    rows = [
        [
            text_cell(notes, v)
            for v in (c.header_zh, c.key, _("yes") if c.required else _("no"), str(c.label))
        ]
        for c in columns
    ]
    write_table(notes, [_header(notes, head, fill=True)], rows, maximum=80)
    notes.append([])
    for line in (
        _(
            "Row 1 holds the Chinese headers and row 2 the English ones; keep either or both. "
            "Providers start on the next row, one per row."
        ),
        _("The columns may come in any order; columns with other headers are ignored."),
        _(
            "A code already in a register you keep updates that provider; a blank cell keeps "
            "the stored value. The whole file is checked first, and nothing is imported while "
            "any row has a problem. Limits: 10 MB and %(max)s providers per file."
        )
        % {"max": f"{importing.MAX_ROWS:,}"},
        _(
            "Example: 91320500MA1XXXXXXX | 苏州智造科技有限公司 | 系统集成商 | MES、设备联网 | "
            "320500、320583 | 李明 | liming@example.com | 13812345678"
        ),
    ):
        notes.append([text_cell(notes, line)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
