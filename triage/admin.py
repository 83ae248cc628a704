from django.contrib import admin

from .models import (
    ApiToken,
    CannedResponse,
    ClassifierVersion,
    RoutingRule,
    Team,
    Triage,
)


@admin.register(ClassifierVersion)
class ClassifierVersionAdmin(admin.ModelAdmin[ClassifierVersion]):
    list_display = ["version", "is_active", "created_at"]
    readonly_fields = ["version", "path", "sha256", "metrics", "training_counts"]


@admin.register(Triage)
class TriageAdmin(admin.ModelAdmin[Triage]):
    list_display = ["enquiry", "product_type", "product_confidence", "needs_review"]
    list_filter = ["needs_review", "product_type"]
    raw_id_fields = ["enquiry"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "slug"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin[RoutingRule]):
    list_display = ["precedence", "product_type", "process_type", "team", "active"]
    list_editable = ["active"]
    list_filter = ["team", "active"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin[CannedResponse]):
    list_display = ["title"]
    search_fields = ["title", "body"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["prefix", "user", "created_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    readonly_fields = ["prefix", "user", "created_at", "last_used_at"]
    fields = ["prefix", "user", "created_at", "last_used_at", "revoked"]

    def has_add_permission(self, request: object) -> bool:
        return False  # tokens are created with manage.py create_api_token
