"""Regenerate the sample programme reports in this folder from a throw-away database.

    .venv/bin/python docs/samples/generate_programme.py

Builds a pilot city's programme on the built-in MIIT 2024 framework with the builder the tests
use (tests/programmes/builders.py): 40 firms, four service providers, projects in every stage,
baseline and acceptance ratings, on-site verifications (some confirming the self-report, some
correcting it downwards), and the firms' ratings of their providers. Renders the officials'
edition in zh-hans and en (PDF + XLSX annex), the shareable edition in zh-hans (PDF), and PNGs
of the pages (pdftoppm -png -r 60).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.mkdtemp(prefix="gradient-samples-")
os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/samples.sqlite3"
os.environ["GRADIENT_VAR_DIR"] = _tmp
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradient.settings")

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402

from django.core.management import call_command  # noqa: E402

from assessments.framework import builtin_framework_paths  # noqa: E402
from clusters.models import Cluster, Region  # noqa: E402
from programmes.models import RetrofitProject  # noqa: E402
from reports.rendering import render_programme  # noqa: E402
from tests.programmes.builders import Plan, build_programme  # noqa: E402

Stage = RetrofitProject.Stage
PROVIDERS = (
    "厦门智造云科技有限公司",
    "海峡工业互联网服务有限公司",
    "鹭岛数字化集成有限公司",
    "同安精益软件有限公司",
)
NAMES = ["精工", "恒达", "华瑞", "鑫源", "宏昌", "永盛", "金泰", "天成", "博远", "联创"]
TRADES = ["模具", "机械", "五金", "电子", "卫浴", "塑胶", "精密", "汽配"]
TARGETED = (("LC1", "LC2"), ("PE1",), ("LC3",), ())


def _plans(rng: random.Random) -> list[Plan]:
    stages = [Stage.ACCEPTED] * 26 + [Stage.DELIVERED] * 4 + [Stage.IN_PROGRESS] * 4
    stages += [Stage.CONTRACTED] * 2 + [Stage.DIAGNOSED] * 2 + [Stage.ABANDONED] * 2
    plans = []
    for i, stage in enumerate(stages):
        provider = (0, 0, 0, 1, 1, 2, 2, 3)[i % 8]
        verify = ""
        if stage == Stage.ACCEPTED and i % 3 == 0:
            verify = "lower" if i % 2 else "confirm"
        plans.append(
            Plan(
                provider=provider,
                stage=stage,
                skill=rng.uniform(0.1, 0.55),
                gain=rng.uniform(0.05, 0.4) + (0.1 if provider == 0 else 0),
                verify=verify,
                verify_baseline=stage == Stage.ACCEPTED and i % 4 == 0,
                rating=rng.choice([3, 4, 4, 5, 5]) if stage == Stage.ACCEPTED else None,
                days=rng.randint(80, 330),
                targeted=TARGETED[i % len(TARGETED)],
            )
        )
    return plans


def _region(code: str, zh: str, en: str, level: str, parent: Region | None) -> Region:
    region = Region.objects.create(code=code, name_zh=zh, name_en=en, level=level, parent=parent)
    region.path = f"{parent.path if parent else '/'}{region.pk}/"
    region.save(update_fields=["path"])
    return region


def _page_images(pdf_path: Path) -> None:
    """PNGs of every page next to the PDF (NAME-1.png, NAME-2.png, ...)."""
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf_path), str(pdf_path.with_suffix(""))],
        check=True,
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    rng = random.Random(11)
    province = _region("350000", "福建省", "Fujian", "province", None)
    city = _region("350200", "厦门市", "Xiamen", "city", province)
    cluster = Cluster.objects.create(
        slug="xiamen-pilot",
        name_zh="厦门市中小企业数字化转型试点集群",
        name_en="Xiamen SME digital transformation pilot cluster",
        region=city,
    )
    plans = _plans(rng)
    names = [
        f"厦门{NAMES[i % len(NAMES)]}{TRADES[(i * 3) % len(TRADES)]}有限公司{'' if i < 10 else i}"
        for i in range(len(plans))
    ]
    path = next(p for p in builtin_framework_paths() if "miit" in p.name)
    built = build_programme(
        plans,
        path=path,
        provider_names=PROVIDERS,
        target_level="L2",
        target_firms=30,
        target_date=dt.date(2027, 6, 30),
        region=city,
        cluster=cluster,
        firm_names=names,
        programme_names=(
            "厦门市中小企业数字化转型城市试点",
            "Xiamen SME digital transformation pilot",
        ),
    )
    for language in ("zh-hans", "en"):
        out = render_programme(built.programme, language=language)
        pdf_path = OUT / f"programme-report-{language}.pdf"
        pdf_path.write_bytes(out.pdf)
        (OUT / f"programme-report-annex-{language}.xlsx").write_bytes(out.xlsx)
        _page_images(pdf_path)
        print(language, out.timings)
    shared = render_programme(built.programme, language="zh-hans", shareable=True, with_xlsx=False)
    (OUT / "programme-report-shareable-zh-hans.pdf").write_bytes(shared.pdf)
    print("shareable", shared.timings)


if __name__ == "__main__":
    main()
