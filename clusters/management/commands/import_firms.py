"""`manage.py import_firms CLUSTER_SLUG FILE [--dry-run]`: load a firm register into a cluster.

Exits 0 and prints counts, or exits 2 and prints one line per problem. Never a traceback.
Runs as the operator (`services.OPERATOR`): whoever can run manage.py may change every firm,
so, unlike an official's import, a code of a firm in any cluster updates that firm.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from clusters import importing
from clusters.models import Cluster
from clusters.services import OPERATOR, ImportRejected, register_import


class Command(BaseCommand):
    help = "Import firms from an XLSX or CSV file into a cluster (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cluster_slug")
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and count, write nothing"
        )
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            help="language of the messages (zh-hans or en)",
        )

    def _fail(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            try:
                self._run(options)
            except (SystemExit, KeyboardInterrupt):
                raise
            except Exception as exc:  # the promise is one line per problem, never a traceback
                self._fail([_("The import failed: %(reason)s") % {"reason": exc}])

    def _run(self, options: dict[str, Any]) -> None:
        cluster = Cluster.objects.filter(slug=options["cluster_slug"]).first()
        if cluster is None:
            self._fail(
                [_("No cluster has the slug “%(slug)s”.") % {"slug": options["cluster_slug"]}]
            )
        path = Path(options["file"])
        try:
            if path.stat().st_size > importing.MAX_BYTES:
                self._fail([str(importing.Problem(_("The file is larger than 10 MB.")))])
            data = path.read_bytes()
        except OSError as exc:
            self._fail(
                [_("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror}]
            )
        try:
            outcome = register_import(
                cluster=cluster,
                data=data,
                filename=path.name,
                user=OPERATOR,  # the command line has full rights over the register
                dry_run=options["dry_run"],
            )
        except ImportRejected as rejected:
            lines = [str(p) for p in rejected.problems]
            if rejected.more:
                lines.append(_("… and %(count)d more problems.") % {"count": rejected.more})
            self._fail(lines)
        counts = {
            "rows": outcome.rows,
            "created": outcome.created,
            "updated": outcome.updated,
            "joined": outcome.joined,
            "cluster": cluster.slug,
        }
        if options["dry_run"]:
            message = _(
                "Dry run, nothing written: %(rows)d rows would create %(created)d firms, update "
                "%(updated)d and add %(joined)d to cluster %(cluster)s."
            )
        else:
            message = _(
                "Imported %(rows)d rows: %(created)d firms created, %(updated)d updated, "
                "%(joined)d added to cluster %(cluster)s."
            )
        self.stdout.write(message % counts)
