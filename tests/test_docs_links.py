"""The README and the API schema point to the framework format inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_readme_links_the_framework_format_in_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/FRAMEWORK_FORMAT.md)" in readme
    assert (ROOT / "docs" / "FRAMEWORK_FORMAT.md").is_file()
    assert "make demo PORT=" in readme


def test_readme_demo_login_table_lines_up():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("| role ")
    lines = readme[start:].split("\n\n", 1)[0].splitlines()
    assert len(lines) == 9  # header, rule, seven logins (four roles, two assessors, a provider)
    pipes = {tuple(m.start() for m in re.finditer(r"\|", line)) for line in lines}
    assert len(pipes) == 1, "every row has its | at the same columns"


def test_api_schema_names_the_framework_format_file():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    text = str(schema)
    assert "docs/FRAMEWORK_FORMAT.md" in text
    assert "github" not in text.lower()
