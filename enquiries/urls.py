from django.urls import path

from . import views

app_name = "enquiries"
urlpatterns = [
    path("", views.start, name="start"),
    path("enquiry/", views.enquiry_form, name="form"),
    path("enquiry/check/", views.check_answers, name="check"),
    path("enquiry/submitted/", views.submitted, name="submitted"),
    path("status/<str:token>/", views.status, name="status"),
    path("privacy/", views.privacy, name="privacy"),
    path("assets/<path:path>", views.frontend_asset, name="frontend_asset"),
    path("accessibility/", views.accessibility, name="accessibility"),
]
