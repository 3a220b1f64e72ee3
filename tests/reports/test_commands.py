"""The command-line entry points: render_cluster_report and export_results."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook
from pypdf import PdfReader

pytestmark = pytest.mark.django_db


def test_render_cluster_report_writes_pdf_and_xlsx(scored: Any, tmp_path: Path) -> None:
    pdf, xlsx = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    call_command(
        "render_cluster_report",
        scored.round.cluster.slug,
        "--language",
        "en",
        "--output",
        str(pdf),
        "--xlsx",
        str(xlsx),
        stdout=io.StringIO(),
    )
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert scored.round.name in text  # the latest round by default
    assert len(list(load_workbook(xlsx, read_only=True)["Firms"].iter_rows())) == 21
    call_command(
        "render_cluster_report",
        scored.round.cluster.slug,
        "--round",
        str(scored.previous.pk),
        "--shareable",
        "--output",
        str(pdf),
        stdout=io.StringIO(),
    )
    assert "Round T0" in "".join(p.extract_text() for p in PdfReader(pdf).pages)


@pytest.mark.parametrize("command", ["render_cluster_report", "export_results"])
def test_unknown_cluster_or_round_exits_2_with_a_message(
    command: str, scored: Any, tmp_path: Path
) -> None:
    extra = ["--format", "csv"] if command == "export_results" else []
    with pytest.raises(CommandError, match="Unknown cluster 'nope'") as info:
        call_command(command, "nope", "--output", str(tmp_path / "x"), *extra)
    assert info.value.returncode == 2
    with pytest.raises(CommandError, match="Unknown round 999999") as info:
        call_command(
            command,
            scored.round.cluster.slug,
            "--round",
            "999999",
            "--output",
            str(tmp_path / "x"),
            *extra,
        )
    assert info.value.returncode == 2


def test_export_results_csv_has_the_documented_columns(scored: Any, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    call_command(
        "export_results",
        scored.round.cluster.slug,
        "--format",
        "csv",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    with target.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "uscc",
        "firm",
        "total",
        "level",
        "basic",
        "advanced",
        "base",
        "mgmt",
        "ops",
        "submitted_at",
    ]
    names = {f.pk: f for f in scored.firms}
    by_uscc = {r[0]: r for r in rows[1:]}
    assert len(by_uscc) == len(scored.results)
    for firm_id, result in scored.results.items():
        row = by_uscc[names[firm_id].uscc]
        assert row[1] == names[firm_id].name
        assert row[2] == str(result.total) and row[3] == (result.level or "")
        assert row[4] == ("true" if result.basic else "false")
        assert row[6] == str(result.dimensions["base"])


def test_export_results_xlsx(scored: Any, tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    call_command(
        "export_results",
        scored.round.cluster.slug,
        "--format",
        "xlsx",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    rows = list(load_workbook(target, read_only=True).active.iter_rows(values_only=True))
    assert rows[0][0] == "uscc" and len(rows) == len(scored.results) + 1
