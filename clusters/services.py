"""Writes to the register: regions with their paths, firms, memberships and scopes."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from clusters import importing, selectors, sizes
from clusters.models import Cluster, ClusterMembership, Firm, Region, RegisterUpload
from gradient import audit


def _path_for(region: Region) -> str:
    parent_path = region.parent.path if region.parent is not None else "/"
    return f"{parent_path}{region.pk}/"


@transaction.atomic
def region_create(
    *,
    name_zh: str,
    level: str,
    parent: Region | None = None,
    code: str | None = None,
    name_en: str = "",
) -> Region:
    """Create a region under `parent` and return it with its materialised path set."""
    region = Region.objects.create(
        code=code or None, name_zh=name_zh, name_en=name_en, level=level, parent=parent
    )
    region.path = _path_for(region)
    region.save(update_fields=["path"])
    return region


@transaction.atomic
def region_update_paths(region: Region) -> int:
    """Recompute the path of a region and of its whole subtree; return how many changed.

    Call after creating a region outside `region_create` or after moving it to a new parent.
    """
    old_path = Region.objects.filter(pk=region.pk).values_list("path", flat=True).first() or ""
    parent = region.parent if region.parent_id else None
    if parent is not None:
        parent.refresh_from_db(fields=["path"])
    if parent is not None and f"/{region.pk}/" in parent.path:
        raise ValueError("a region cannot be moved under its own sub-region")
    new_path = _path_for(region)
    changed = 0
    if old_path != new_path:
        Region.objects.filter(pk=region.pk).update(path=new_path)
        changed += 1
        if old_path:
            for child in Region.objects.filter(path__startswith=old_path).exclude(pk=region.pk):
                child.path = new_path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
                changed += 1
    region.path = new_path
    return changed


def firm_size_class(firm: Firm) -> str:
    """The size class the 2017 thresholds give this firm, or "" when a figure is missing."""
    return (
        sizes.size_class(
            firm.industry_division,
            group=firm.industry_group,
            employees=firm.employees,
            revenue=firm.revenue_10k_cny,
            assets=firm.total_assets_10k_cny,
        )
        or ""
    )


@transaction.atomic
def firm_save(firm: Firm) -> Firm:
    """Normalise, derive the size class, validate and save a firm."""
    from clusters import uscc

    firm.uscc = uscc.normalise(firm.uscc)
    firm.size_class = firm_size_class(firm)
    firm.full_clean()
    firm.save()
    return firm


@transaction.atomic
def membership_add(
    *, cluster: Cluster, firm: Firm, start_date: dt.date | None = None
) -> tuple[ClusterMembership, bool]:
    """Add a firm to a cluster (no-op if already a member); return it and whether it is new."""
    return ClusterMembership.objects.get_or_create(
        cluster=cluster, firm=firm, defaults={"start_date": start_date or timezone.localdate()}
    )


# --- Register import --------------------------------------------------------------------------
#
# Scope: an import changes only firms the acting user already sees (`selectors.firms_visible_to`).
# A row whose code belongs to a firm outside that scope is refused at commit, and with it the
# whole file (all or nothing); the firm is never renamed, re-figured or added to the cluster.
# Reading and the preview count such a code as new, like a code no firm has, so the preview
# does not tell whether a code exists elsewhere. The command line acts as OPERATOR: full rights.

log = logging.getLogger("clusters.import")


class _Operator:
    """The acting user of the command line: whoever runs manage.py may change every firm."""

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR: Final = _Operator()


def _visible_firms(user: Any, cluster: Cluster) -> list[QuerySet[Firm]] | None:
    """The firms `user` may change by importing, as a union; None for OPERATOR (all of them).

    The cluster's own firms come first: a re-import mostly holds them, and that query is cheap.
    No user (None) or an anonymous one sees no firm: every known code would be refused.
    """
    if user is OPERATOR:
        return None
    return [selectors.cluster_firms(user, cluster), selectors.firms_visible_to(user)]


@dataclass
class ImportOutcome:
    """What an import did (or, for a dry run, would do)."""

    created: int = 0
    updated: int = 0
    joined: int = 0  # firms newly added to the cluster
    rows: int = 0
    problems: list[importing.Problem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing stopped the import."""
        return not self.problems and not self.more_problems


class ImportRejected(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[importing.Problem], more: int = 0) -> None:
        super().__init__(f"{len(problems) + more} problem(s)")
        self.problems = problems
        self.more = more


_UPDATABLE = (
    "name",
    "region",
    "industry_section",
    "industry_division",
    "industry_group",
    "employees",
    "revenue_10k_cny",
    "total_assets_10k_cny",
    "contact_person",
    "contact_email",
    "contact_phone",
)


def _apply_row(firm: Firm, row: importing.FirmRow, regions: dict[str, int]) -> None:
    """Copy a checked row onto a firm. Blank cells keep what the register already has."""
    firm.name = row.name
    if row.region_code is not None:
        firm.region_id = regions[row.region_code]
    if row.industry is not None:
        firm.industry_section = row.industry.section
        firm.industry_division = row.industry.division
        firm.industry_group = row.industry.group
    if row.employees is not None:
        firm.employees = row.employees
    if row.revenue_10k_cny is not None:
        firm.revenue_10k_cny = row.revenue_10k_cny
    if row.total_assets_10k_cny is not None:
        firm.total_assets_10k_cny = row.total_assets_10k_cny
    for name in ("contact_person", "contact_email", "contact_phone"):
        if getattr(row, name) is not None:
            setattr(firm, name, getattr(row, name))
    firm.size_class = firm_size_class(firm)


def _concrete(name: str) -> Field[Any, Any]:
    """A concrete field of Firm (never a relation's reverse side)."""
    found = Firm._meta.get_field(name)
    assert isinstance(found, Field), name
    return found


def _values(firm: Firm) -> tuple[object, ...]:
    return tuple(getattr(firm, _concrete(name).attname) for name in _UPDATABLE) + (firm.size_class,)


def _write_updates(firms: list[Firm], field_names: list[str]) -> None:
    """UPDATE the given fields of many firms with one prepared statement run per firm.

    `bulk_update` builds one CASE expression per field and row, which takes tens of seconds for
    10,000 firms; `executemany` on a single parametrised UPDATE takes well under a second on
    SQLite and PostgreSQL alike. Values go through each field's own conversion for the database.
    """
    if not firms:
        return
    fields = [_concrete(name) for name in field_names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    sql = f"UPDATE {quote(Firm._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"
    params = [
        [f.get_db_prep_save(getattr(firm, f.attname), connection) for f in fields] + [firm.pk]
        for firm in firms
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def register_import(
    *, cluster: Cluster, data: bytes, filename: str, user: Any, dry_run: bool = False
) -> ImportOutcome:
    """Import a register file into a cluster, all or nothing; raise ImportRejected on problems.

    `user` is who acts: the import may change only the firms they see, and refuses a row whose
    code belongs to any other firm. Pass OPERATOR for the command line's full rights; there is
    no default, so that no caller gets them by leaving the argument out.

    The file is read and checked again inside the transaction that writes, so what is written
    is exactly what was checked, against the register as it is at that moment.
    """
    try:
        with transaction.atomic():
            outcome = _register_import(cluster=cluster, data=data, filename=filename, user=user)
            if dry_run:
                transaction.set_rollback(True)
            else:
                # One entry for the import: its firms are written in bulk.
                audit.record(
                    audit.REGISTER_IMPORTED,
                    cluster,
                    actor=None if user is OPERATOR else user,
                    action=audit.CREATE,
                    file=filename[-255:],
                    rows=outcome.rows,
                    created=outcome.created,
                    updated=outcome.updated,
                    joined=outcome.joined,
                    by="command line" if user is OPERATOR else "",
                )
            return outcome
    except IntegrityError:
        # Another import wrote one of these firms between our check and our write.
        raise ImportRejected(
            [
                importing.Problem(
                    _("The register changed while this file was being imported. Try again.")
                )
            ]
        ) from None


def _out_of_scope(row: importing.FirmRow, column: str) -> importing.Problem:
    return importing.Problem(
        _(
            "this code cannot be imported into this cluster from your account; nothing in the "
            "file was imported. Remove the row, or ask the administrator to add this firm to "
            "the cluster."
        ),
        row=row.row,
        column=column,
    )


def _register_import(*, cluster: Cluster, data: bytes, filename: str, user: Any) -> ImportOutcome:
    checked = importing.read_register(data, filename, visible=_visible_firms(user, cluster))
    if not checked.ok:
        raise ImportRejected(checked.problems, checked.more_problems)
    now = timezone.now()
    existing_ids = set(checked.existing.values())
    existing = {
        f.uscc: f
        for start in range(0, len(checked.rows), 900)
        for f in Firm.objects.select_for_update().filter(
            uscc__in=[r.uscc for r in checked.rows[start : start + 900]]
        )
    }
    outside = [r for r in checked.rows if r.uscc in existing and r.uscc not in checked.existing]
    if outside:
        # Firms the user does not see: refuse, and change nothing (see the note above).
        log.warning(
            "register import into %s by user %s refused: %d row(s) hold codes of firms "
            "outside the user's scope (rows %s)",
            cluster.slug,
            getattr(user, "pk", None),
            len(outside),
            ", ".join(str(r.row) for r in outside[:20]),
        )
        problems = [_out_of_scope(r, checked.uscc_column) for r in outside]
        raise ImportRejected(
            problems[: importing.MAX_ERRORS], len(problems[importing.MAX_ERRORS :])
        )
    new_firms: list[Firm] = []
    changed: list[Firm] = []
    seen_existing: list[Firm] = []
    for row in checked.rows:
        firm = existing.get(row.uscc)
        if firm is None:
            firm = Firm(uscc=row.uscc)
            _apply_row(firm, row, checked.regions)
            new_firms.append(firm)
        else:
            before = _values(firm)
            _apply_row(firm, row, checked.regions)
            seen_existing.append(firm)
            if _values(firm) != before:
                firm.updated_at = now
                changed.append(firm)
    created = Firm.objects.bulk_create(new_firms, batch_size=1000)
    _write_updates(changed, [*_UPDATABLE, "size_class", "updated_at"])
    members = set(
        ClusterMembership.objects.filter(cluster=cluster, firm_id__in=existing_ids).values_list(
            "firm_id", flat=True
        )
    )
    today = timezone.localdate()
    links = [
        ClusterMembership(cluster=cluster, firm=f, start_date=today)
        for f in [*created, *seen_existing]
        if f.pk not in members
    ]
    ClusterMembership.objects.bulk_create(links, batch_size=1000)
    return ImportOutcome(
        created=len(created), updated=len(seen_existing), joined=len(links), rows=len(checked.rows)
    )


@transaction.atomic
def register_upload_create(
    *, cluster: Cluster, user: Any, data: bytes, filename: str
) -> tuple[RegisterUpload, importing.RegisterFile]:
    """Store an uploaded register file for preview and return it with its checked contents.

    The preview counts as "already there" only the firms `user` sees (see register_import).
    """
    checked = importing.read_register(data, filename, visible=_visible_firms(user, cluster))
    upload = RegisterUpload(
        cluster=cluster,
        uploaded_by=user,
        original_name=filename[:255],
        rows=len(checked.rows),
        status=RegisterUpload.Status.PREVIEWED if checked.ok else RegisterUpload.Status.REJECTED,
    )
    if checked.ok:
        suffix = "xlsx" if data.startswith(b"PK") else "csv"
        upload.file.save(f"{uuid.uuid4().hex}.{suffix}", ContentFile(data), save=False)
    upload.save()
    return upload, checked


def register_upload_commit(upload: RegisterUpload, *, user: Any) -> ImportOutcome:
    """Import a previewed upload as `user`, all or nothing; raise ImportRejected if it fails."""
    if upload.status != RegisterUpload.Status.PREVIEWED or not upload.file:
        raise ImportRejected([importing.Problem(_("This upload was already imported."))])
    with upload.file.open("rb") as handle:
        data = handle.read()
    with transaction.atomic():
        locked = RegisterUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != RegisterUpload.Status.PREVIEWED:
            raise ImportRejected([importing.Problem(_("This upload was already imported."))])
        outcome = register_import(
            cluster=upload.cluster, data=data, filename=upload.file.name or "", user=user
        )
        locked.status = RegisterUpload.Status.IMPORTED
        locked.created, locked.updated, locked.joined = (
            outcome.created,
            outcome.updated,
            outcome.joined,
        )
        locked.rows = outcome.rows
        locked.imported_at = timezone.now()
        locked.save()
    upload.refresh_from_db()
    return outcome
