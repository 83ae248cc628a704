from django.urls import path

from . import auth_views, views

app_name = "triage"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("staff/login/", auth_views.sign_in, name="login"),
    path("staff/two-factor/", auth_views.two_factor, name="two_factor"),
    path("staff/logout/", auth_views.sign_out, name="logout"),
    path("staff/", views.queue, name="queue"),
    path("staff/enquiries/<str:reference>/", views.enquiry_detail, name="enquiry"),
    path("staff/enquiries/<str:reference>/reply/", views.reply, name="reply"),
    path("staff/enquiries/<str:reference>/accept/", views.accept, name="accept"),
    path("staff/enquiries/<str:reference>/correct/", views.correct, name="correct"),
    path("staff/enquiries/<str:reference>/route/", views.route, name="route"),
    path("staff/enquiries/<str:reference>/assign/", views.assign, name="assign"),
    path("staff/enquiries/<str:reference>/move/", views.move, name="move"),
    path("staff/enquiries/<str:reference>/note/", views.note, name="note"),
    path("staff/bulk/", views.bulk, name="bulk"),
    path(
        "staff/enquiries/<str:reference>/attachments/<int:pk>/",
        views.attachment,
        name="attachment",
    ),
    path("staff/model/", views.model_quality, name="model"),
]
