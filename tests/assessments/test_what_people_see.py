"""Issue 11, what people see: internal notes kept from firms, the fixed-size chart, the
percentile, the scenario pages, Chinese password rules and the admin's header."""

from __future__ import annotations

import re
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from assessments import charts, statistics
from assessments.framework import builtin_framework_paths, load_framework_file
from assessments.questionnaire import questionnaire_context
from reports.methodology import methodology_notes
from tests.factories import AssessmentFactory, FrameworkVersionFactory, RoundFactory

INTERNAL = re.compile(r"github|third-party|unverified|percentile_cont|第三方|scribd", re.I)


@pytest.mark.parametrize("path", builtin_framework_paths(), ids=lambda p: p.name)
def test_builtin_texts_a_firm_sees_carry_no_internal_notes(path):
    fw = load_framework_file(path)
    assert fw.notes  # the provenance is kept, in the field firms never see
    seen = [fw.source, fw.title, *(lv.description for lv in fw.levels)]
    seen += [d.description for d in fw.dimensions]
    seen += [q.help for q in fw.questions] + [q.text for q in fw.questions]
    for value in seen:
        for string in (value or {}).values() if isinstance(value, dict) else [value or ""]:
            assert not INTERNAL.search(string), string
    assert not INTERNAL.search(" ".join(fw.notes.values()))  # plain words, no repositories


def test_miit_source_cites_only_the_official_notice():
    fw = load_framework_file(
        next(p for p in builtin_framework_paths() if p.name.startswith("miit"))
    )
    assert "工信厅企业〔2024〕56号" in fw.source["zh-hans"]
    assert "《中小企业数字化水平评测指标（2024年版）》" in fw.source["zh-hans"]
    assert "http" not in fw.source["zh-hans"] and "http" not in fw.source["en"]


@pytest.mark.django_db
def test_methodology_notes_say_what_is_secondary_in_both_languages():
    version = FrameworkVersionFactory()
    zh, en = methodology_notes(version, "zh-hans"), methodology_notes(version, "en")
    assert any("二手资料" in line for line in zh)
    assert any("secondary sources" in line for line in en)
    assert any("基础水平" in line for line in zh)


def _row(title, score, median):
    return SimpleNamespace(title=title, score=score, peer=SimpleNamespace(median=median))


def _boxes(svg: str):
    bars = [tuple(float(m[k]) for k in ("x", "y", "w", "h")) for m in charts._BAR.finditer(svg)]
    labels = []
    for m in re.finditer(r'<text class="gvalue" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)<', svg):
        x, baseline, label = float(m[1]), float(m[2]), m[3]
        size = charts.FONT_SIZE
        labels.append((x, baseline - size, charts.text_width(label), size))
    return bars, labels


def _overlap(a, b) -> bool:
    return not (
        a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_chart_has_a_fixed_size_and_labels_that_touch_no_bar_and_no_other_label(language):
    rows = [_row("Digital foundation", D("99.75"), D(100)), _row("Results", D(0), D("0.5"))]
    with translation.override(language):
        svg = str(charts.scores_chart(D(100), rows, D("99.5")))
    assert f'width="{charts.WIDTH}"' in svg.split(">", 1)[0]
    assert 'class="guide line"' not in svg and 'class="major guide line"' not in svg
    bars, labels = _boxes(svg)
    # pygal draws no bar for a score of 0, so that row has no value label either.
    assert len(bars) == len(labels) == 5
    plot_width = charts.WIDTH - 8  # the plot's group is translated; labels stay inside the SVG
    for i, label in enumerate(labels):
        assert not any(_overlap(label, bar) for bar in bars), label
        assert not any(_overlap(label, other) for other in labels[i + 1 :]), label
        assert label[0] + label[2] < plot_width
    if language == "en":
        assert ">Cluster median<" in svg


def test_percentile_rank_counts_ties_as_half():
    values = [D(10), D(20), D(20), D(30), D(40)]
    assert statistics.percentile_rank(D(20), values) == 40  # (1 + 2/2) / 5
    assert statistics.percentile_rank(D(40), values) == 90
    assert statistics.percentile_rank(D(5), [D(5)] * 5) == 50


@pytest.mark.django_db
def test_miit_operations_is_split_into_four_scenario_pages(world):
    version = FrameworkVersionFactory()
    round_ = RoundFactory(cluster=world["alpha"], framework_version=version)
    draft = AssessmentFactory(round=round_, firm=world["firms"]["alpha"][0])
    with translation.override("en"):
        first = questionnaire_context(draft, "operations")
        assert first["group_count"] == 4 and first["group_index"] == 1
        assert first["group_title"] == "Product lifecycle"
        assert len(first["questions"]) == 4
        last = questionnaire_context(draft, "operations", "group-management")
        assert len(last["questions"]) == 4
        total = sum(
            len(
                questionnaire_context(draft, "operations", g["url"].split("group=")[1])["questions"]
            )
            for g in first["group_nav"]
        )
    assert total == 16
    assert "group=group-production" in first["next_url"]
    # Within the part's groups the buttons say "page"; at its ends they lead to another part.
    assert not first["next_is_part"] and first["previous_is_part"]
    assert last["next_is_part"] and not last["previous_is_part"]
    with pytest.raises(KeyError):
        questionnaire_context(draft, "operations", "group-nope")


@pytest.mark.django_db
def test_unknown_scenario_group_is_404(client, firm_user, world):
    version = FrameworkVersionFactory()
    round_ = RoundFactory(cluster=world["alpha"], framework_version=version)
    draft = AssessmentFactory(round=round_, firm=world["firms"]["alpha"][0])
    client.force_login(firm_user)
    url = reverse("assessments:questionnaire_dimension", args=[draft.pk, "operations"])
    assert client.get(url + "?group=nope").status_code == 404
    html = client.get(url + "?group=group-supply-chain").content.decode()
    assert "供应链数字化" in html and "第 3 组，共 4 组" in html


def test_password_too_short_is_said_in_chinese():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        validate_password("12a")
    assert "密码太短，至少需要 8 个字符。" in caught.value.messages
    assert not any(re.search(r"[A-Za-z]{4}", m) for m in caught.value.messages)


@pytest.mark.django_db
def test_admin_has_a_gradient_header_and_a_translated_axes_section(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/admin/").content.decode()
    assert "Gradient 系统管理" in html and "Django 管理" not in html
    assert "登录保护" in html and "Access attempts" not in html


@pytest.mark.django_db
def test_the_cluster_reports_appendix_carries_the_notes_for_officials():
    from reports.context import methodology

    version = FrameworkVersionFactory()
    appendix = methodology(version, "zh-hans")
    assert appendix.notes and appendix.notes == methodology_notes(version, "zh-hans")
