from django.contrib import admin

from .models import CaseStudy


@admin.register(CaseStudy)
class CaseStudyAdmin(admin.ModelAdmin[CaseStudy]):
    list_display = ["title", "product_type", "status", "published"]
    list_filter = ["status", "product_type"]
    search_fields = ["title", "summary", "slug"]
    prepopulated_fields = {"slug": ["title"]}
