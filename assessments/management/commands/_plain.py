"""A base for commands that report problems as plain lines on stderr and exit 2.

Django prints a CommandError as "CommandError: ..." and exits 1. The framework commands follow
FRAMEWORK_FORMAT.md instead: one line per problem, exit status 2, and never a traceback, so
every exception is caught here, at the command boundary.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Problems(Exception):
    """Stop the command: print each problem on its own line on stderr, exit 2."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Parser(CommandParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # Argument errors: one plain line and exit 2, also under call_command().
        command = self.prog.split()[-1] if self.prog.split() else "command"
        sys.stderr.write(f"{command}: {message}\n")
        sys.exit(2)


class PlainCommand(BaseCommand):
    """Runs `run()`; Problems and any unexpected error become stderr lines and exit status 2."""

    requires_system_checks: list[str] = []  # type: ignore[assignment]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """The usual parser, whose errors exit 2 with one plain line."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = _Parser  # Django builds a CommandParser; only error() differs
        return parser

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the command; report problems and exit 2 instead of raising."""
        try:
            self.run(*args, **options)
        except Problems as exc:
            self._fail(exc.problems)
        except KeyboardInterrupt:
            self._fail(["interrupted"])
        except Exception as exc:  # noqa: BLE001 - the boundary: never show a traceback
            self._fail([f"unexpected error: {type(exc).__name__}: {exc}"])

    def run(self, *args: Any, **options: Any) -> None:
        """The command's work; raise Problems to stop with exit status 2."""
        raise NotImplementedError

    def _fail(self, problems: list[str]) -> None:
        for line in problems:
            self.stderr.write(" ".join(str(line).splitlines()) or "error")
        self.stderr.flush()
        sys.exit(2)
