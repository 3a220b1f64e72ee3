"""Regenerate the sample cluster reports in this folder from a throw-away database.

    .venv/bin/python docs/samples/generate.py

Seeds two clusters on the built-in MIIT 2024 framework (two rounds for the main one, so the
change since the previous round shows), renders the report in zh-hans and en, the XLSX annex,
and PNGs of the first pages (pdftoppm -png -r 60 -f 1 -l 3).
"""

from __future__ import annotations

import os
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
import random  # noqa: E402

from django.core.management import call_command  # noqa: E402

from assessments.framework import builtin_framework_paths  # noqa: E402
from clusters.models import Cluster, ClusterMembership, Firm, Region  # noqa: E402
from reports.rendering import render_cluster, render_region  # noqa: E402
from tests.factories import make_uscc  # noqa: E402
from tests.reports.builders import answers_for, framework_version, invite, make_round, submit_many  # noqa: E402

NAMES = [
    "精工",
    "恒达",
    "华瑞",
    "鑫源",
    "宏昌",
    "永盛",
    "金泰",
    "天成",
    "博远",
    "联创",
    "瑞丰",
    "鼎盛",
    "海纳",
    "中科",
    "嘉禾",
    "新锐",
    "德力",
    "凯特",
    "远航",
    "正泰",
]
TRADES = ["模具", "机械", "五金", "电子", "纺织", "塑胶", "精密", "智能装备", "汽配", "包装"]


def _region(code: str, zh: str, en: str, level: str, parent: Region | None) -> Region:
    region = Region.objects.create(code=code, name_zh=zh, name_en=en, level=level, parent=parent)
    region.path = f"{parent.path if parent else '/'}{region.pk}/"
    region.save(update_fields=["path"])
    return region


def _page_images(pdf_path: Path, *, pages: int) -> None:
    """Write PNGs of the first pages next to the PDF (NAME-1.png, NAME-2.png, ...)."""
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            str(pages),
            str(pdf_path),
            str(pdf_path.with_suffix("")),
        ],
        check=True,
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    version, fw = framework_version(next(p for p in builtin_framework_paths() if "miit" in p.name))
    province = _region("330000", "浙江省", "Zhejiang", "province", None)
    city = _region("330300", "温州市", "Wenzhou", "city", province)
    county = _region("330382", "乐清市", "Yueqing", "county", city)
    rng = random.Random(7)
    clusters = [
        Cluster.objects.create(
            slug="yueqing-electrical",
            name_zh="乐清电气产业集群",
            name_en="Yueqing electrical equipment cluster",
            region=county,
        ),
        Cluster.objects.create(
            slug="wenzhou-pumps",
            name_zh="温州泵阀产业集群",
            name_en="Wenzhou pumps and valves cluster",
            region=city,
        ),
    ]
    n = 0
    for cluster, size in zip(clusters, (240, 120), strict=True):
        firms = []
        for i in range(size):
            n += 1
            employees = rng.choice([8, 25, 60, 150, 260, 420, 900])
            size_class = (
                "micro"
                if employees < 20
                else "small"
                if employees < 300
                else "medium"
                if employees < 1000
                else "large"
            )
            firms.append(
                Firm(
                    uscc=make_uscc(n),
                    name=f"{cluster.name_zh[:2]}{rng.choice(NAMES)}{rng.choice(TRADES)}有限公司{i + 1}",
                    employees=employees,
                    size_class=size_class,
                    region=cluster.region,
                )
            )
        firms = Firm.objects.bulk_create(firms)
        ClusterMembership.objects.bulk_create(
            [
                ClusterMembership(cluster=cluster, firm=f, start_date=dt.date(2024, 1, 1))
                for f in firms
            ]
        )
        t0 = make_round(
            cluster,
            version,
            name="2025年度评测（T0）",
            opens=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        )
        skills = [rng.betavariate(2.6, 2.4) for _ in firms]
        done = [f for f in firms if rng.random() < 0.8]
        invite(t0, firms)
        submit_many(
            t0,
            fw,
            done,
            [answers_for(fw, skills[firms.index(f)], rng) for f in done],
            with_invitations=False,
        )
        if cluster is clusters[0]:
            t1 = make_round(
                cluster,
                version,
                name="2026年度评测（T1）",
                opens=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            )
            invite(t1, firms)
            done = [f for f in firms if rng.random() < 0.86]
            submit_many(
                t1,
                fw,
                done,
                [answers_for(fw, min(1, skills[firms.index(f)] + 0.07), rng) for f in done],
                with_invitations=False,
            )
    main_round = clusters[0].rounds.order_by("-opens_at").first()
    for language in ("zh-hans", "en"):
        out = render_cluster(main_round, language=language, with_xlsx=language == "zh-hans")
        pdf_path = OUT / f"cluster-report-{language}.pdf"
        pdf_path.write_bytes(out.pdf)
        if out.xlsx:
            (OUT / "cluster-report-annex-zh-hans.xlsx").write_bytes(out.xlsx)
        _page_images(pdf_path, pages=3)
        print(language, out.timings)
    region = render_region(province, language="zh-hans")
    (OUT / "region-report-zh-hans.pdf").write_bytes(region.pdf)
    _page_images(OUT / "region-report-zh-hans.pdf", pages=2)
    print("region", region.timings)


if __name__ == "__main__":
    main()
