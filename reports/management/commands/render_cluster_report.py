"""Render a cluster report synchronously to a PDF (and optionally its XLSX annex)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.management.commands._target import cluster_round


class Command(BaseCommand):
    help = "Render a cluster report to FILE.pdf (and --xlsx FILE.xlsx) without a worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cluster", metavar="CLUSTER_SLUG")
        parser.add_argument("--round", type=int, default=None, help="round id (default: latest)")
        parser.add_argument("--language", choices=["zh-hans", "en"], default="zh-hans")
        parser.add_argument(
            "--shareable",
            action="store_true",
            help="leave out firm names and suppress cells under 5 firms",
        )
        parser.add_argument("--output", required=True, metavar="FILE.pdf")
        parser.add_argument("--xlsx", default=None, metavar="FILE.xlsx")

    def handle(self, *args: Any, **options: Any) -> None:
        from reports.rendering import render_cluster

        _cluster, round_ = cluster_round(options["cluster"], options["round"])
        targets = [Path(options["output"])] + ([Path(options["xlsx"])] if options["xlsx"] else [])
        for target in targets:
            if not target.parent.exists():
                raise CommandError(f"Folder {target.parent} does not exist.", returncode=2)
        out = render_cluster(
            round_,
            language=options["language"],
            shareable=options["shareable"],
            with_xlsx=bool(options["xlsx"]),
        )
        try:
            targets[0].write_bytes(out.pdf)
            if options["xlsx"]:
                targets[1].write_bytes(out.xlsx)
        except OSError as exc:
            raise CommandError(f"Cannot write the report: {exc}", returncode=2) from None
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in out.timings.items())
        self.stdout.write(
            f"Wrote {targets[0]}"
            + (f" and {targets[1]}" if len(targets) > 1 else "")
            + f" ({timings})"
        )
