"""`manage.py load_frameworks [FILE...]`: load the built-in frameworks and any given files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from assessments.framework import (
    Framework,
    FrameworkError,
    builtin_framework_paths,
    load_framework_file,
)
from assessments.management.commands._plain import PlainCommand, Problems
from assessments.models import FrameworkVersion
from assessments.versions import (
    FrameworkVersionConflict,
    content_hash,
    framework_version_declare_comparable,
    framework_version_load,
)


def _declare(declaration: str) -> str:
    """Apply one --comparable SLUG:NEW=OLD; FrameworkVersionConflict names what is wrong."""
    slug, _colon, pair = declaration.partition(":")
    new, _eq, old = pair.partition("=")
    if not (slug and new and old):
        raise FrameworkVersionConflict(
            f"--comparable {declaration}: expected SLUG:NEW=OLD, e.g. miit-sme:2025=2024"
        )
    found = {
        v.version: v
        for v in FrameworkVersion.objects.filter(framework__slug=slug, version__in=[new, old])
    }
    for wanted in (new, old):
        if wanted not in found:
            raise FrameworkVersionConflict(
                f"--comparable {declaration}: framework {slug} has no version {wanted}"
            )
    framework_version_declare_comparable(found[new], found[old])
    return f"{slug} {new}: levels comparable with {old}"


class Command(PlainCommand):
    help = (
        "Load the built-in frameworks (assessments/frameworks/*.yaml) and any FILEs into the "
        "database as published versions. All or nothing: if any file is invalid, or would "
        "change a published version, nothing is loaded and the command exits 2."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """FILE...: extra framework files; --draft keeps new versions unpublished."""
        parser.add_argument("files", metavar="FILE", nargs="*")
        parser.add_argument(
            "--draft", action="store_true", help="Load new versions as drafts, unpublished."
        )
        parser.add_argument("--no-builtins", action="store_true", help="Load only the FILEs given.")
        parser.add_argument(
            "--comparable",
            action="append",
            default=[],
            metavar="SLUG:NEW=OLD",
            help=(
                "Declare that version NEW of framework SLUG has levels comparable with its "
                "version OLD (e.g. miit-sme:2025=2024), so that reports show the change "
                "between rounds on the two. Repeatable."
            ),
        )

    def run(self, *args: Any, **options: Any) -> None:
        """Parse every file first, then load them all in one transaction."""
        paths: list[Path] = [] if options["no_builtins"] else builtin_framework_paths()
        paths += [Path(f) for f in options["files"]]
        if not paths:
            self.stderr.write("no framework files found (assessments/frameworks/*.yaml is empty)")
            return
        problems: list[str] = []
        parsed: list[tuple[Path, Framework]] = []
        seen: dict[tuple[str, str], tuple[Path, str]] = {}
        for path in paths:
            try:
                fw = load_framework_file(path)
            except FrameworkError as exc:
                problems += [
                    p if p.startswith(f"{path}:") else f"{path}: {p}" for p in exc.problems
                ]
                continue
            key = (fw.slug, fw.version)
            digest = content_hash(fw.definition)
            if key in seen:
                first, first_digest = seen[key]
                if first_digest != digest:
                    problems.append(
                        f"{path}: {fw.slug} {fw.version} is also defined, differently, in {first}"
                    )
                continue
            seen[key] = (path, digest)
            parsed.append((path, fw))
        for path, fw in parsed:
            stored = FrameworkVersion.objects.filter(
                framework__slug=fw.slug,
                version=fw.version,
                status=FrameworkVersion.Status.PUBLISHED,
            ).first()
            if stored is not None and stored.content_hash != content_hash(fw.definition):
                problems.append(
                    f"{path}: {fw.slug} {fw.version} is published and its content differs; "
                    "publish a new version instead"
                )
        if problems:
            raise Problems([*problems, "nothing was loaded"])
        lines: list[str] = []
        try:
            with transaction.atomic():
                for _path, fw in parsed:
                    version, status = framework_version_load(fw, publish=not options["draft"])
                    lines.append(f"{fw.slug} {fw.version}: {status}")
                for declaration in options["comparable"]:
                    lines.append(_declare(declaration))
        except FrameworkVersionConflict as exc:
            raise Problems([str(exc), "nothing was loaded"]) from None
        for line in lines:
            self.stdout.write(line)
