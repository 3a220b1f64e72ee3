"""Export one row per submitted assessment of a cluster's round, as CSV or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.exports import write_csv, write_xlsx
from reports.management.commands._target import cluster_round


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
        try:
            if options["format"] == "csv":
                with target.open("w", newline="", encoding="utf-8-sig") as fh:
                    count = write_csv(round_, fh)
            else:
                count = write_xlsx(round_, target)
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc}", returncode=2) from None
        self.stdout.write(f"Wrote {count} rows to {target}")
