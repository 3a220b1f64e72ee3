"""`manage.py validate_framework FILE`: check a framework file, listing every problem."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from assessments.framework import FrameworkError, load_framework_file
from assessments.management.commands._plain import PlainCommand, Problems


class Command(PlainCommand):
    help = "Check a framework file (YAML or JSON). Exit 2 with one line per problem."

    def add_arguments(self, parser: CommandParser) -> None:
        """FILE: the framework file."""
        parser.add_argument("file", metavar="FILE")

    def run(self, *args: Any, **options: Any) -> None:
        """Validate the file and print a one-line summary."""
        try:
            fw = load_framework_file(options["file"])
        except FrameworkError as exc:
            raise Problems(exc.problems) from None
        self.stdout.write(
            f"{fw.slug} {fw.version}: valid ({len(fw.dimensions)} dimensions, "
            f"{len(fw.questions)} questions, {len(fw.levels)} levels)"
        )
