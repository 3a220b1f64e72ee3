"""The provenance notes of a framework version for the officials' methodology appendix.

A framework file's `notes` (docs/FRAMEWORK_FORMAT.md) say, in plain words, which figures come
from secondary sources and how the basic and advanced bands were chosen. Officials read them
in the cluster report's appendix; no firm-facing page or PDF shows them.
"""

from __future__ import annotations

from assessments.framework import text
from assessments.models import FrameworkVersion
from assessments.versions import framework_for


def methodology_notes(version: FrameworkVersion, language: str) -> tuple[str, ...]:
    """The version's notes in `language`, one paragraph per line; () when it has none."""
    fw = framework_for(version)
    if not fw.notes:
        return ()
    return tuple(line.strip() for line in text(fw.notes, language).splitlines() if line.strip())
