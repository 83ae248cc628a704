from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("staff/", views.queue, name="queue"),
    path("staff/enquiries/<str:reference>/", views.enquiry_detail, name="enquiry"),
]
