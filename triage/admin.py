from django.contrib import admin

from .models import ClassifierVersion, Triage


@admin.register(ClassifierVersion)
class ClassifierVersionAdmin(admin.ModelAdmin[ClassifierVersion]):
    list_display = ["version", "is_active", "created_at"]
    readonly_fields = ["version", "path", "sha256", "metrics", "training_counts"]


@admin.register(Triage)
class TriageAdmin(admin.ModelAdmin[Triage]):
    list_display = ["enquiry", "product_type", "product_confidence", "needs_review"]
    list_filter = ["needs_review", "product_type"]
    raw_id_fields = ["enquiry"]
