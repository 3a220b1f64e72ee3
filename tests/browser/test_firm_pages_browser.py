"""Every page and PDF a firm meets, in a real browser (Chromium), at 375 px and 1366 px in both
languages: home, each questionnaire part and scenario group, the review page, the firm file
and the 404 page (the result page and PDF: test_firm_result_browser.py). None may carry development notes ("github", "third-party", "unverified"),
and a Chinese one may show no English UI string: no msgid of the four catalogs that has a
Chinese translation may appear in its text as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from tests.assessments.test_builtin_frameworks import MIIT_MIDDLING
from tests.browser.test_firm_result_browser import DESKTOP, INTERNAL, PHONE, _login
from tests.factories import (
    AssessmentFactory,
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

_CJK = re.compile(r"[\u3400-\u9fff]")
# Shorter msgids ("Score", "Level") are words that firm names, codes and figures can contain;
# from this length on an English msgid on a Chinese page is untranslated UI text.
_MIN_LENGTH = 8
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{.*?\}\}|\{[\w.]*\}")


def _unquote(lines: list[str]) -> str:
    return "".join(lines).replace('\\"', '"').replace("\\n", "\n")


def translated_msgids() -> set[str]:
    """Every msgid of the four catalogs whose msgstr is Chinese, cut at its placeholders into
    the literal pieces long enough to be recognised on a page."""
    pieces: set[str] = set()
    for part in ("core", "clusters", "assessments", "reports"):
        po = Path(settings.BASE_DIR, "locale", part, "zh_Hans", "LC_MESSAGES", "django.po")
        for block in po.read_text(encoding="utf-8").split("\n\n"):
            if block.lstrip().startswith("#~"):
                continue  # obsolete
            fields: dict[str, list[str]] = {}
            key = ""
            for line in block.splitlines():
                match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
                if match:
                    key = match.group(1)
                    fields[key] = [match.group(2)]
                elif line.startswith('"') and key:
                    fields[key].append(line[1:-1])
            msgid = _unquote(fields.get("msgid", []))
            msgstr = _unquote(fields.get("msgstr", fields.get("msgstr[0]", [])))
            if not msgid or not _CJK.search(msgstr):
                continue
            for piece in _PLACEHOLDER.split(msgid):
                piece = piece.strip(" .,:;()“”\"'")
                if len(piece) >= _MIN_LENGTH and not _CJK.search(piece) and " " in piece:
                    pieces.add(piece)
    return pieces


def _english_shown(text: str, pieces: set[str]) -> list[str]:
    return sorted(p for p in pieces if p in text)


@pytest.fixture
def firm_world(transactional_db: None) -> dict[str, Any]:
    """A firm with last year's result and this year's draft (a few answers given)."""
    version = FrameworkVersionFactory()
    cluster = ClusterFactory(slug="kunshan-moulds", name_zh="昆山模具产业集群")
    firm = FirmFactory(name="昆山精密模具有限公司")
    MembershipFactory(cluster=cluster, firm=firm)
    user = UserFactory(username="li.na")
    FirmMemberFactory(user=user, firm=firm)
    now = dt.datetime.now(dt.UTC)
    last_year = RoundFactory(
        cluster=cluster,
        framework_version=version,
        name="2025 年数字化评估",
        opens_at=now - dt.timedelta(days=400),
        closes_at=now - dt.timedelta(days=340),
    )
    previous = SubmittedAssessmentFactory(round=last_year, firm=firm, answers=MIIT_MIDDLING)
    this_year = RoundFactory(cluster=cluster, framework_version=version, name="2026 年数字化评估")
    some = dict(list(MIIT_MIDDLING.items())[:6])
    draft = AssessmentFactory(round=this_year, firm=firm, answers=some)
    return {"user": user, "firm": firm, "draft": draft, "previous": previous}


def _firm_urls(page: Any, base: str, world: dict[str, Any]) -> list[str]:
    """Home, every questionnaire page the navigation links to, review, firm file."""
    draft = world["draft"].pk
    page.goto(f"{base}/assessments/{draft}/")
    links = page.eval_on_selector_all(
        f'a[href*="/assessments/{draft}/"]', "els => els.map(e => e.getAttribute('href'))"
    )
    parts = sorted({h.split("#")[0] for h in links if "/part/" in h or "group=" in h})
    assert len(parts) >= 4, parts  # the parts and the scenario groups of part 2
    return [
        "/",
        f"/assessments/{draft}/",
        *parts[:20],
        f"/assessments/{draft}/review/",
        reverse("reports:firm_file", args=[world["firm"].pk]),
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1366"])
def test_firm_pages_show_no_notes_and_chinese_pages_no_english_ui_text(
    live_server: Any,
    browser: Any,
    firm_world: dict,
    screenshots: Path,
    language: str,
    viewport: dict,
) -> None:
    context = browser.new_context(viewport=viewport)
    _login(context, live_server, firm_world["user"], language)
    page = context.new_page()
    pieces = translated_msgids()
    assert len(pieces) > 200  # the catalogs were read
    found: dict[str, list[str]] = {}
    for url in _firm_urls(page, live_server.url, firm_world):
        response = page.goto(live_server.url + url)
        assert response is not None and response.status == 200, url
        body = page.inner_text("body")
        notes = INTERNAL.findall(body)
        if notes:
            found[url] = notes
        if language == "zh-hans" and (shown := _english_shown(body, pieces)):
            found[url] = shown
    # The friendly 404 page (the demo shows it too, with DEBUG on: tests/test_error_pages.py).
    response = page.goto(live_server.url + "/no-such-page/")
    assert response is not None and response.status == 404
    body = page.inner_text("body")
    assert ("页面不存在" if language == "zh-hans" else "Page not found") in body
    if language == "zh-hans":
        assert _english_shown(body, pieces) == []
    page.screenshot(path=str(screenshots / f"not-found-{language}-{viewport['width']}.png"))
    assert found == {}
    for name, url in (
        ("home", "/"),
        ("review", f"/assessments/{firm_world['draft'].pk}/review/"),
        ("firm-file", reverse("reports:firm_file", args=[firm_world["firm"].pk])),
    ):
        page.goto(live_server.url + url)
        page.screenshot(
            path=str(screenshots / f"firm-{name}-{language}-{viewport['width']}.png"),
            full_page=True,
        )
    context.close()


def test_the_check_catches_an_english_string_on_a_chinese_page() -> None:
    """The catalog check is not empty-handed: an untranslated sentence is found."""
    pieces = translated_msgids()
    sample = next(p for p in sorted(pieces) if len(p) > 20)
    assert _english_shown(f"页面 {sample} 结束", pieces) == [sample]
    assert _english_shown("页面全部为中文", pieces) == []
