from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from adplatform.accounts.forms import AdminLoginForm
from adplatform.core.api.exceptions import json_error_response
from adplatform.project import views

admin.site.site_header = "Platform administration"
admin.site.site_title = "Platform admin"
admin.site.index_title = "Games, campaigns, leaderboards and accounts"
admin.site.login_form = AdminLoginForm  # failed logins throttled as on the site's login page


def api_not_found(request, *args, **kwargs):
    return json_error_response("not_found", "Not found.", 404)


urlpatterns = [
    # The game-server API first: its hot paths should not walk every page's pattern before matching.
    path("api/<str:version>/", include(("adplatform.project.api_urls", "api"), namespace="api")),
    path("", views.home, name="home"),
    path("", include("adplatform.accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("", include("django_prometheus.urls")),
    path("games/", include("games.urls")),
    path("leaderboards/", include("scoreboard.live_urls")),
    path("campaigns/", include("ads.urls")),
    path("reports/", include("ads.report_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    re_path(r"^api/", api_not_found),
]

handler400 = "adplatform.project.views.handler400"
handler403 = "adplatform.project.views.handler403"
handler404 = "adplatform.project.views.handler404"
handler500 = "adplatform.project.views.handler500"
