"""The firm's result page and PDF in a real browser (Chromium): what a firm sees, at 375 px
and 1366 px, in both languages. No development notes, no English UI text on Chinese pages, a
chart of a fixed size whose labels touch nothing, and the scenario split of the questionnaire.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from pypdf import PdfReader

from tests.assessments.test_builtin_frameworks import MIIT_MIDDLING, MIIT_STRONG
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    FirmMemberFactory,
    FrameworkVersionFactory,
    MembershipFactory,
    RoundFactory,
    SubmittedAssessmentFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
# Text a firm must never read: development notes and secondary sources.
INTERNAL = re.compile(r"github|third-party|unverified|percentile_cont|第三方|尚未.{0,6}核对", re.I)


def _english_ui_strings() -> set[str]:
    """Every translated msgid of the four catalogs of at least 12 characters: a Chinese page
    that shows one of them verbatim shows untranslated UI text."""
    msgids: set[str] = set()
    for part in ("core", "clusters", "assessments", "reports"):
        po = Path(settings.BASE_DIR, "locale", part, "zh_Hans", "LC_MESSAGES", "django.po")
        for block in po.read_text(encoding="utf-8").split("\n\n"):
            ids = re.findall(r'^msgid "(.*)"$', block, re.M)
            if not ids or "%" in block.split("msgstr")[0] or "{" in ids[0]:
                continue
            head = block.split("msgid_plural")[0].split("msgstr")[0]
            text = "".join(re.findall(r'"(.*)"', head.split("msgid", 1)[1]))
            if len(text) >= 12 and not text.startswith("http"):
                msgids.add(text.replace('\\"', '"'))
    return msgids


@pytest.fixture
def result(transactional_db: None) -> dict[str, Any]:
    version = FrameworkVersionFactory()
    cluster = ClusterFactory(slug="kunshan-moulds", name_zh="昆山模具产业集群")
    round_ = RoundFactory(cluster=cluster, framework_version=version, name="2026 年数字化评估")
    firm = FirmFactory(name="昆山精密模具有限公司")
    MembershipFactory(cluster=cluster, firm=firm)
    user = UserFactory(username="zhang.wei")
    FirmMemberFactory(user=user, firm=firm)
    mine = SubmittedAssessmentFactory(round=round_, firm=firm, answers=MIIT_MIDDLING)
    for i in range(5):
        peer = FirmFactory(name=f"同行企业{i}")
        MembershipFactory(cluster=cluster, firm=peer)
        SubmittedAssessmentFactory(
            round=round_, firm=peer, answers=MIIT_STRONG if i % 2 else MIIT_MIDDLING
        )
    return {"assessment": mine, "user": user}


def _login(context: Any, live_server: Any, user: Any, language: str) -> None:
    from django.test import Client

    client = Client()
    client.force_login(user)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": host,
                "path": "/",
            },
            {"name": "django_language", "value": language, "domain": host, "path": "/"},
        ]
    )


def _boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1366"])
def test_result_page_shows_no_notes_and_a_chart_whose_labels_touch_nothing(
    live_server: Any, browser: Any, result: dict, screenshots: Path, language: str, viewport: dict
) -> None:
    context = browser.new_context(viewport=viewport)
    _login(context, live_server, result["user"], language)
    page = context.new_page()
    page.goto(f"{live_server.url}/assessments/{result['assessment'].pk}/result/")
    body = page.inner_text("body")
    assert not INTERNAL.search(body), INTERNAL.search(body)
    if language == "zh-hans":
        shown = [s for s in _english_ui_strings() if s in body]
        assert shown == []
    # The scenario counts and the percentile are there.
    assert page.locator("#scenario-counts tbody tr").count() == 4
    assert page.locator("#percentile").count() == 1

    svg = page.locator(".chart svg")
    box = svg.bounding_box()
    # A fixed size: drawn at its own width on a desktop, never wider than the card on a phone.
    assert box["width"] == pytest.approx(float(svg.get_attribute("width")), abs=1) or (
        viewport["width"] < 400 and box["width"] < float(svg.get_attribute("width"))
    )
    bars = [b.bounding_box() for b in svg.locator("rect.rect").all()]
    values = [t.bounding_box() for t in svg.locator("text.gvalue").all()]
    legend = [t.bounding_box() for t in svg.locator(".legends text").all()]
    assert values and len(values) == len(bars)
    for i, label in enumerate(values):
        assert not any(_boxes_overlap(label, bar) for bar in bars), i
        assert not any(_boxes_overlap(label, other) for other in values[i + 1 :]), i
        assert label["x"] + label["width"] <= box["x"] + box["width"] + 0.5
    for text in legend:
        assert text["x"] + text["width"] <= box["x"] + box["width"] + 0.5
    assert svg.locator("path.guide").count() == 0
    if language == "en":
        assert (
            "Cluster median" in svg.inner_html() and "…" not in svg.locator(".legends").inner_html()
        )
    name = f"result-{language}-{viewport['width']}.png"
    page.screenshot(path=str(screenshots / name), full_page=True)
    context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_firm_pdf_cites_only_the_official_source(
    live_server: Any, browser: Any, result: dict, language: str
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    _login(context, live_server, result["user"], language)
    url = f"{live_server.url}/reports/firm-results/{result['assessment'].pk}.pdf"
    response = context.request.get(url)
    assert response.status == 200, response.status
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert not INTERNAL.search(text), INTERNAL.search(text)
    assert "56" in text  # 工信厅企业〔2024〕56号 / [2024] No. 56
    if language == "zh-hans":
        from tests.browser.test_firm_pages_browser import translated_msgids

        # PDF text extraction breaks lines where the layout does: compare with blanks joined.
        flat = re.sub(r"\s+", " ", text)
        assert sorted(p for p in translated_msgids() if p in flat) == []
    context.close()
