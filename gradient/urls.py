"""Top-level URLs: each app brings its own pages and API routes."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from gradient import views

# Swagger UI comes from its CDN (SPECTACULAR_SETTINGS' default) with one inline <style> of
# three rules; the split view serves its own script from ?script, so no inline script. Only
# this page gets the CDN in its policy; every other page allows only the app's own files.
_SWAGGER_CDN = "https://cdn.jsdelivr.net"
api_docs = csp_update(
    {
        "script-src": [_SWAGGER_CDN],
        "style-src": [_SWAGGER_CDN, "'unsafe-inline'"],
        "img-src": [_SWAGGER_CDN],
    }
)(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))

# The admin speaks Gradient, not "Django administration" (texts in the core catalog).
admin.site.site_header = _("Gradient administration")
admin.site.site_title = _("Gradient admin")
admin.site.index_title = _("Users, scopes and frameworks")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("", include("clusters.urls")),
    path("", include("assessments.urls")),
    path("", include("reports.urls")),
]

handler404 = "gradient.views.not_found"
handler500 = "gradient.views.server_error"
