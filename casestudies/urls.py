from django.urls import path

from . import feeds, views

app_name = "casestudies"
urlpatterns = [
    path("case-studies/", views.case_study_list, name="list"),
    path("case-studies/feed/", feeds.LatestCaseStudies(), name="feed"),
    path("case-studies/<slug:slug>/", views.case_study_detail, name="detail"),
    path("staff/case-studies/", views.editor_list, name="editor"),
    path("staff/case-studies/new/", views.editor_new, name="new"),
    path(
        "staff/case-studies/from-enquiry/<str:reference>/",
        views.editor_from_enquiry,
        name="from_enquiry",
    ),
    path("staff/case-studies/<int:pk>/", views.editor_edit, name="edit"),
    path("staff/case-studies/<int:pk>/preview/", views.editor_preview, name="preview"),
    path("staff/case-studies/<int:pk>/move/", views.editor_move, name="move"),
]
