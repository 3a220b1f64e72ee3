"""Export one row per submitted assessment of a cluster's round, as CSV or XLSX."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from clusters.spreadsheets import csv_text, text_cell
from reports.management.commands._target import cluster_round
from reports.rows import dimension_codes, firm_rows


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class Command(BaseCommand):
    help = (
        "Write one row per submitted assessment: uscc, firm, total, level, basic, advanced, "
        "one column per dimension code, submitted_at."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cluster", metavar="CLUSTER_SLUG")
        parser.add_argument("--round", type=int, default=None, help="round id (default: latest)")
        parser.add_argument("--format", choices=["csv", "xlsx"], required=True)
        parser.add_argument("--output", required=True, metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        _cluster, round_ = cluster_round(options["cluster"], options["round"])
        target = Path(options["output"])
        if not target.parent.exists():
            raise CommandError(f"Folder {target.parent} does not exist.", returncode=2)
        codes = dimension_codes(round_.framework_version)
        header = ["uscc", "firm", "total", "level", "basic", "advanced", *codes, "submitted_at"]

        def rows() -> Any:
            for r in firm_rows(round_):
                yield [
                    r.uscc,
                    r.firm,
                    r.total,
                    r.level,
                    r.basic,
                    r.advanced,
                    *r.dimensions,
                    timezone.localtime(r.submitted_at).isoformat() if r.submitted_at else None,
                ]

        count = 0
        try:
            if options["format"] == "csv":
                with target.open("w", newline="", encoding="utf-8-sig") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(header)
                    for row in rows():
                        # Text beginning "=", "+", "-", "@"… gets a leading "'" (CSV injection).
                        writer.writerow([csv_text(_cell(v)) for v in row])
                        count += 1
            else:
                from openpyxl import Workbook

                wb = Workbook(write_only=True)
                ws = wb.create_sheet("results")
                ws.append(header)
                for row in rows():
                    ws.append(
                        [
                            float(v) if hasattr(v, "as_tuple") else text_cell(ws, _cell(v))
                            for v in row
                        ]
                    )
                    count += 1
                wb.save(target)
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc}", returncode=2) from None
        self.stdout.write(f"Wrote {count} rows to {target}")
