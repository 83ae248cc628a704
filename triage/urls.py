from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("staff/", views.queue, name="queue"),
    path("staff/enquiries/<str:reference>/", views.enquiry_detail, name="enquiry"),
    path("staff/enquiries/<str:reference>/reply/", views.reply, name="reply"),
]
