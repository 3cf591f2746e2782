"""Top-level URLs. Every app keeps its own urls.py and api.py; nothing is auto-registered."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from kechuang.api_urls import router
from kechuang.core.views import LoginView, PasswordChangeView, healthz

public = login_not_required

urlpatterns = [
    path("", include("kechuang.dashboard.urls")),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("jsi18n/", public(JavaScriptCatalog.as_view()), name="javascript-catalog"),
    path("core/", include("kechuang.core.urls")),
    path("imports/", include("kechuang.core.import_urls")),
    path("enterprises/", include("kechuang.enterprises.urls")),
    path("rules/", include("kechuang.rules.urls")),
    path("policies/", include("kechuang.policies.urls")),
    path("plans/", include("kechuang.plans.urls")),
    path("api/", include(router.urls)),
    path("api/schema", public(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs",
        # The split view serves its start-up script from a URL: no inline script (CSP).
        public(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

# Errors outside an API view: the JSON error body under /api/, pages elsewhere.
handler400 = "kechuang.core.errors.bad_request"
handler403 = "kechuang.core.errors.permission_denied"
handler404 = "kechuang.core.errors.page_not_found"
handler500 = "kechuang.core.errors.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
