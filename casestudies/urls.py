from django.urls import path

from . import feeds, views

app_name = "casestudies"
urlpatterns = [
    path("", views.case_study_list, name="list"),
    path("feed/", feeds.LatestCaseStudies(), name="feed"),
    path("<slug:slug>/", views.case_study_detail, name="detail"),
]
