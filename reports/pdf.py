"""HTML to PDF bytes. The only module in Gradient that imports WeasyPrint."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from assessments.models import active_language

# Candidate CJK fonts, lightest first. WenQuanYi Micro Hei renders long tables markedly faster
# than Noto Sans CJK (see docs/benchmarks.md); either covers the GB 2312 set and more.
_CJK_FONT_CANDIDATES = [
    ("WenQuanYi Micro Hei", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    ("Noto Sans CJK SC", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
]


# WeasyPrint logs every layout step at INFO; keep worker logs for what matters.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """The CSS family name of the CJK font that PDFs embed (configurable via PDF_CJK_FONT)."""
    if settings.PDF_CJK_FONT:
        return settings.PDF_CJK_FONT
    for family, path in _CJK_FONT_CANDIDATES:
        if Path(path).exists():
            return family
    return _CJK_FONT_CANDIDATES[0][0]


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Render an HTML string to PDF bytes; assets resolve from disk, never the network."""
    from weasyprint import HTML  # imported lazily: it takes ~0.3 s to import

    base = base_url or str(settings.BASE_DIR)
    return HTML(string=html, base_url=base, url_fetcher=_local_fetcher()).write_pdf()


def language_name(code: str | None = None) -> str:
    """A language as its own name ("简体中文", "English"), the active one by default."""
    code = code or active_language()
    return dict(settings.LANGUAGES).get(code, code)


def render_html(template: str, context: dict[str, Any]) -> str:
    """Render a PDF template to an HTML string in the active language (autoescaped).

    The language is picked once, by whoever starts the render: `translation.override` in
    reports.rendering, the request's language for a download. The template gets its code and
    name as `language` and `language_name`.
    """
    language = active_language()
    return render_to_string(
        template,
        {
            **context,
            "cjk_font": cjk_font_family(),
            "language": language,
            "language_name": language_name(language),
        },
    )


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render a Django template to PDF bytes in the active language."""
    return html_to_pdf(render_html(template, context))


def _local_fetcher() -> Any:
    """A fetcher for file: and data: URLs only, so a template can never make the renderer go
    online (WeasyPrint 70 takes a URLFetcher instance, not a function)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"file", "data"}, allow_redirects=False)
