"""Extract and compile the translation catalog of one part of Gradient.

Each part keeps its own catalog, so that work on one part never rewrites another's:
    python scripts/i18n.py extract clusters   # clusters/ + templates/clusters/ -> locale/clusters
    python scripts/i18n.py compile            # every catalog (same as manage.py compilemessages)
Parts: core (gradient/ + top-level templates), clusters, assessments, programmes, reports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = {
    "core": [
        "gradient",
        "templates/base.html",
        "templates/home.html",
        "templates/404.html",
        "templates/500.html",
        "templates/registration",
    ],
    "clusters": ["clusters", "templates/clusters"],
    "assessments": ["assessments", "templates/assessments"],
    "programmes": ["programmes", "templates/programmes"],
    "reports": ["reports", "templates/reports"],
}
LANGUAGE = "zh_Hans"


def extract(part: str) -> Path:
    """Refresh locale/<part>/zh_Hans/LC_MESSAGES/django.po from the part's sources."""
    target = ROOT / "locale" / part / LANGUAGE / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for i, rel in enumerate(PARTS[part]):
            src = ROOT / rel
            if src.exists():
                os.symlink(src, tmp_path / f"src{i}_{src.name}")
        work = tmp_path / "locale" / LANGUAGE / "LC_MESSAGES"
        work.mkdir(parents=True)
        if (target / "django.po").exists():
            shutil.copy(target / "django.po", work / "django.po")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "django",
                "makemessages",
                "-l",
                LANGUAGE,
                "--symlinks",
                "--no-location",
                "--no-obsolete",
                "-e",
                "html,txt,py",
            ],
            cwd=tmp,
            check=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
        )
        shutil.copy(work / "django.po", target / "django.po")
    return target / "django.po"


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "extract" and argv[1] in PARTS:
        print(extract(argv[1]))
        return 0
    if argv[:1] == ["compile"]:
        return subprocess.run(
            [sys.executable, "manage.py", "compilemessages", "-v", "0", "-i", ".venv", "-i", "var"],
            cwd=ROOT,
        ).returncode
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
