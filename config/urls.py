from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django_otp.admin import OTPAdminSite

if settings.STAFF_TWO_FACTOR:
    admin.site.__class__ = OTPAdminSite  # the admin needs a verified second factor

urlpatterns = [
    path("admin/login/", RedirectView.as_view(url="/staff/login/", query_string=True)),
    path("", include("enquiries.urls")),
    path("", include("triage.urls")),
    path("", include("casestudies.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "triage.auth_views.forbidden"
handler404 = "enquiries.views.not_found"
handler500 = "enquiries.views.server_error"
