from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("enquiries.urls")),
    path("", include("triage.urls")),
    path("", include("casestudies.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "enquiries.views.not_found"
handler500 = "enquiries.views.server_error"
