"""The Chinese catalogs speak with one voice.

Django merges the four catalogs (core, clusters, assessments, reports) and serves the first
translation of a message it finds in LOCALE_PATHS order, so a message translated two ways
would show one wording and keep another in a file nobody sees. The official vocabulary is
评测 (the MIIT indicators are 数字化水平评测指标) and 轮次 for a round.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from django.conf import settings

CATALOGS = [Path(p) / "zh_Hans" / "LC_MESSAGES" / "django.mo" for p in settings.LOCALE_PATHS]


def _catalog(path: Path) -> dict[object, str]:
    with path.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    return {k: v for k, v in translations._catalog.items() if k != ""}  # type: ignore[attr-defined]


def test_every_catalog_is_compiled() -> None:
    assert [p for p in CATALOGS if not p.exists()] == []


def test_a_message_has_one_translation_in_every_catalog() -> None:
    seen: dict[object, tuple[str, str]] = {}
    differing = []
    for path in CATALOGS:
        part = path.parts[-4]
        for msgid, msgstr in _catalog(path).items():
            if msgid in seen and seen[msgid][1] != msgstr:
                differing.append((msgid, seen[msgid], (part, msgstr)))
            seen.setdefault(msgid, (part, msgstr))
    assert differing == []


def test_the_official_terms_are_used() -> None:
    stray = [
        (path.parts[-4], msgstr)
        for path in CATALOGS
        for msgstr in _catalog(path).values()
        if "批次" in msgstr or "评估" in msgstr
    ]
    assert stray == []
