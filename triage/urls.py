from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import api, auth_views, views

app_name = "triage"
urlpatterns = [
    path("api/v1/enquiries/", api.EnquiryCollection.as_view(), name="api-enquiries"),
    path(
        "api/v1/enquiries/<str:reference>/",
        api.EnquiryItem.as_view(),
        name="api-enquiry",
    ),
    path("api/v1/status/<str:token>/", api.StatusView.as_view(), name="api-status"),
    path(
        "api/v1/case-studies/",
        api.CaseStudyCollection.as_view(),
        name="api-case-studies",
    ),
    path(
        "api/v1/case-studies/<slug:slug>/",
        api.CaseStudyItem.as_view(),
        name="api-case-study",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        api.ApiDocs.as_view(url_name="triage:api-schema"),
        name="api-docs",
    ),
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
    path("staff/data-requests/", views.data_requests, name="data_requests"),
    path("staff/insight/", views.insight_page, name="insight"),
]
