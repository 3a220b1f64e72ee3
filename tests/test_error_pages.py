"""The demo (DEBUG on) shows the site's 404 and 500 pages, never Django's technical pages."""

from __future__ import annotations

import pytest
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

from gradient import urls as site_urls


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _missing(request: HttpRequest) -> HttpResponse:
    raise Http404("no such firm")


# The site's routes and handlers, plus two views that fail (used through pytest.mark.urls).
urlpatterns = [path("boom/", _boom), path("missing/", _missing), *site_urls.urlpatterns]
handler404 = site_urls.handler404
handler500 = site_urls.handler500

TECHNICAL = ("Using the URLconf", "Django tried these URL patterns", "Traceback", "a bug")


@pytest.fixture
def demo(settings):
    """The demo's settings: DEBUG on, as `make demo` runs the app."""
    settings.DEBUG = True
    settings.TECHNICAL_ERROR_PAGES = False
    return settings


@pytest.mark.django_db
def test_unknown_page_in_the_demo_is_the_friendly_404_in_chinese(client, demo):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    text = response.content.decode()
    assert "页面不存在" in text and "返回首页" in text
    assert not any(marker in text for marker in TECHNICAL)
    assert "admin/" not in text  # the technical page lists every route


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_http404_from_a_view_in_the_demo_is_the_friendly_page(client, demo):
    response = client.get("/missing/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Page not found" in text and "no such firm" not in text


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_an_error_in_the_demo_is_the_friendly_500_and_is_logged(client, demo, caplog):
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 500
    text = response.content.decode()
    assert "出错了" in text
    assert not any(marker in text for marker in TECHNICAL)
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.django_db
def test_unknown_api_route_in_the_demo_keeps_the_api_shape(client, demo):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_a_developer_can_ask_for_the_technical_page(client, demo):
    demo.TECHNICAL_ERROR_PAGES = True
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Using the URLconf" in response.content.decode()


@pytest.mark.django_db
def test_a_missing_slash_still_redirects_in_the_demo(client, demo):
    response = client.get("/accounts/login")
    assert response.status_code == 301 and response["Location"] == "/accounts/login/"
