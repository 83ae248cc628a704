from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Enquiry, Event, Reply, TaxonomyTerm


@admin.register(TaxonomyTerm)
class TaxonomyTermAdmin(admin.ModelAdmin[TaxonomyTerm]):
    list_display = ["code", "label", "kind", "position"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "code"]
    search_fields = ["code", "label"]

    def has_add_permission(self, request: object) -> bool:
        return False  # codes are fixed by the taxonomy

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class ReplyInline(admin.StackedInline[Reply, Enquiry]):
    model = Reply
    extra = 0


@admin.register(Enquiry)
class EnquiryAdmin(admin.ModelAdmin[Enquiry]):
    list_display = ["reference", "title", "organisation_name", "status", "submitted_at"]
    list_filter = ["status", "classification_state", "organisation_type"]
    search_fields = ["reference", "title", "organisation_name"]
    readonly_fields = ["reference", "submitted_at", "updated_at"]
    exclude = ["status_token_hash"]
    inlines = [ReplyInline]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enquiry]:
        # the same object-level rule as every other view
        return Enquiry.objects.visible_to(request.user)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["enquiry", "action", "at", "actor", "system_actor"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in Event._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        visible = Enquiry.objects.visible_to(request.user)
        return super().get_queryset(request).filter(enquiry__in=visible)
