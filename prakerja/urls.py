from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as accounts_views
from prakerja.api import views as api_views
from prakerja.web import admin_login

admin.site.site_header = _("Prakerja programme office")
admin.site.site_title = _("Prakerja PMO")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", accounts_views.healthz, name="healthz"),
    path("akun/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", admin_login, name="admin_login"),  # before the admin's own
    path("admin/", admin.site.urls),
    path("api/v1/", include("prakerja.api.urls")),
    path("pengembang/api/", api_views.guide, name="api_guide"),
    path("", include("accounts.urls")),
    path("", include("kyc.urls")),
    path("", include("catalog.urls")),
    path("", include("enrollment.urls")),
    path("", include("payouts.urls")),
    path("", include("integrity.urls")),
]

# The API answers in its own error shape, pages with the site's pages.
handler400 = "prakerja.api.views.bad_request"
handler404 = "prakerja.api.views.not_found"
handler500 = "prakerja.api.views.server_error"
