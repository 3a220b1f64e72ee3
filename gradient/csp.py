"""Server-drawn SVG under the Content-Security-Policy.

The policy allows no inline style: pygal's inline SVG carries a `<style>` element (its chart
CSS, prefixed with a random chart id) and a `style="opacity: 0"` attribute. Its `<style>`
gets the request's CSP nonce, and style attributes become SVG presentation attributes,
which a CSP does not restrict. Only for SVG the server drew itself: never for user input.

A builtin template library (settings.TEMPLATES "builtins"): `{{ chart_svg|csp_nonce_styles:request }}`.
"""

from __future__ import annotations

import re

from django import template
from django.http import HttpRequest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_STYLE_TAG = re.compile(r"<style\b")
_STYLE_ATTR = re.compile(r'\sstyle="([^"]*)"')
_DECLARATION = re.compile(r"^\s*([a-z-]+)\s*:\s*([^;]+?)\s*$")


def _as_presentation_attributes(match: re.Match[str]) -> str:
    attributes = []
    for declaration in match.group(1).split(";"):
        parsed = _DECLARATION.match(declaration)
        if parsed:
            attributes.append(f' {parsed.group(1)}="{escape(parsed.group(2))}"')
    return "".join(attributes)


@register.filter(name="csp_nonce_styles")
def nonce_styles(svg: str, request: HttpRequest | None) -> SafeString:
    """The SVG with the request's nonce on its <style> and no style attributes."""
    # str(): django-csp's lazy nonce is falsy until read, and reading it puts it in the header.
    nonce = getattr(request, "csp_nonce", None) if request is not None else None
    nonce = str(nonce) if nonce is not None else ""
    out = _STYLE_ATTR.sub(_as_presentation_attributes, str(svg))
    if nonce:
        out = _STYLE_TAG.sub(f'<style nonce="{escape(nonce)}"', out)
    return mark_safe(out)  # noqa: S308 - the input is SVG the server drew (charts.py)
