"""Top-level URLs: each app brings its own pages and API routes (the API under /api/v1/)."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from gradient import views

# Swagger UI comes from the app's own static files (drf-spectacular-sidecar), so the docs work
# without internet and under the site-wide policy of 'self' only: the split view serves its
# start-up script from ?script, and templates/drf_spectacular/swagger_ui.html moves its inline
# <style> to a file. (ReDoc is left out: its page loads web fonts from another host and its
# styles are injected inline, which that policy refuses.)

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
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("clusters.urls")),
    path("", include("assessments.urls")),
    path("programmes/", include("programmes.urls")),
    path("verification/", include("programmes.verification_urls")),
    path("", include("reports.urls")),
]

handler404 = "gradient.api.not_found"
handler500 = "gradient.views.server_error"
