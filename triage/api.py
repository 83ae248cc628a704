"""REST API v1 (Django REST framework, OpenAPI 3 by drf-spectacular).

Public: submit an enquiry, look up a status, read published case studies.
Staff: token-authenticated queue, detail and PATCH, through the same services,
permissions and audit trail as the web back office.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Collection, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import (
    pagination,
    permissions,
    serializers,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from casestudies.models import CaseStudy
from enquiries import ratelimit, taxonomy
from enquiries import services as enquiry_services
from enquiries.forms import EnquiryForm
from enquiries.models import Enquiry

from . import services
from .authentication import TokenAuthentication
from .models import Team, Triage

ORDERING = {
    "submitted": "submitted_at",
    "due": "response_due",
    "reference": "reference",
}
ORDERING_CHOICES = [f"{sign}{key}" for key in ORDERING for sign in ("", "-")]


class IsStaffWithPermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user: Any = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        needed = "enquiries.view_enquiry"
        if request.method not in permissions.SAFE_METHODS:
            needed = "enquiries.triage_enquiry"
        return bool(user.has_perm(needed))


# --- Serializers ---------------------------------------------------------------


class ClassificationSerializer(serializers.Serializer[Triage]):
    product_type = serializers.SerializerMethodField()
    product_confidence = serializers.FloatField()
    process_types = serializers.SerializerMethodField()
    process_confidences = serializers.DictField(child=serializers.FloatField())
    needs_review = serializers.BooleanField()
    model_version = serializers.CharField()
    case_studies = serializers.ListField(child=serializers.CharField())
    classified_at = serializers.DateTimeField()
    confirmed_by_staff = serializers.SerializerMethodField()

    def get_product_type(self, triage: Triage) -> str:
        return triage.final_product_type or triage.product_type

    def get_process_types(self, triage: Triage) -> list[str]:
        # once staff have confirmed the labels, their list counts, even when empty
        if triage.labels_confirmed_at is not None:
            return list(triage.final_process_types)
        return list(triage.process_types)

    def get_confirmed_by_staff(self, triage: Triage) -> bool:
        return triage.labels_confirmed_at is not None


class EnquirySummarySerializer(serializers.Serializer[Enquiry]):
    reference = serializers.CharField()
    title = serializers.CharField()
    organisation_name = serializers.CharField()
    organisation_type = serializers.CharField()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    response_due = serializers.DateField()
    teams = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()

    def get_teams(self, enquiry: Enquiry) -> list[str]:
        return [r.team.slug for r in enquiry.routings.all()]

    def get_assignee(self, enquiry: Enquiry) -> str | None:
        return enquiry.assigned_to.username if enquiry.assigned_to else None


class EnquiryDetailSerializer(EnquirySummarySerializer):
    description = serializers.CharField()
    contact_name = serializers.CharField()
    email = serializers.EmailField()
    development_stage = serializers.CharField()
    product_type_guess = serializers.CharField()
    confidential = serializers.BooleanField()
    classification_state = serializers.CharField()
    classification = serializers.SerializerMethodField()

    @extend_schema_field(ClassificationSerializer(allow_null=True))
    def get_classification(self, enquiry: Enquiry) -> dict[str, Any] | None:
        triage = getattr(enquiry, "triage", None)
        if triage is None or not triage.product_type:
            return None
        return dict(ClassificationSerializer(triage).data)


class EnquiryPatchSerializer(serializers.Serializer[Any]):
    product_type = serializers.ChoiceField(
        choices=taxonomy.PRODUCT_TYPES, required=False
    )
    process_types = serializers.ListField(
        child=serializers.ChoiceField(choices=taxonomy.PROCESS_TYPES), required=False
    )
    teams = serializers.ListField(child=serializers.SlugField(), required=False)
    assignee = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    status = serializers.ChoiceField(choices=Enquiry.Status.values, required=False)

    def validate_teams(self, value: list[str]) -> list[Team]:
        teams = list(Team.objects.filter(slug__in=value))
        unknown = sorted(set(value) - {t.slug for t in teams})
        if unknown:
            raise serializers.ValidationError(f"Unknown team: {', '.join(unknown)}")
        if not teams:
            raise serializers.ValidationError("Choose at least one team")
        return teams

    def validate_assignee(self, value: str | None) -> User | None:
        if not value:
            return None
        user = User.objects.filter(
            username=value, is_staff=True, is_active=True
        ).first()
        if user is None:
            raise serializers.ValidationError(f"No staff member called {value!r}")
        return user


class CaseStudySerializer(serializers.Serializer[CaseStudy]):
    slug = serializers.SlugField()
    title = serializers.CharField()
    summary = serializers.CharField()
    product_type = serializers.CharField()
    process_types = serializers.ListField(child=serializers.CharField())
    organisation_type = serializers.CharField()
    published = serializers.DateField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, study: CaseStudy) -> str:
        return f"{settings.SITE_URL}{study.get_absolute_url()}"


class CaseStudyDetailSerializer(CaseStudySerializer):
    body = serializers.CharField()


class SubmissionSerializer(serializers.Serializer[Any]):
    """A JSON object of these fields only: text fields are JSON strings, consent
    and confidential are true or false. Any other field is refused, and so are
    attachments, which are accepted only through the web form."""

    organisation_name = serializers.CharField(max_length=200)
    organisation_type = serializers.ChoiceField(choices=taxonomy.ORGANISATION_TYPES)
    contact_name = serializers.CharField(max_length=200)
    email = serializers.EmailField()
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    development_stage = serializers.ChoiceField(choices=taxonomy.DEVELOPMENT_STAGES)
    title = serializers.CharField(max_length=150)
    description = serializers.CharField(min_length=50, max_length=10_000)
    product_type_guess = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="A product type code, or empty for 'not sure'.",
    )
    confidential = serializers.BooleanField(required=False)
    consent = serializers.BooleanField()


# Field name -> messages; "non_field_errors" for errors about the whole request,
# or {"detail": message} when the body could not be read at all.
ERRORS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    },
}
DETAIL = inline_serializer("Detail", {"detail": serializers.CharField()})
STAFF_ERRORS = {401: DETAIL, 403: DETAIL}
JSON_TYPES = (
    (bool, "true or false"),
    (int | float, "a number"),
    (list, "a list"),
    (dict, "an object"),
    (type(None), "null"),
)


def unknown_fields(
    data: Mapping[str, Any], known: Collection[str]
) -> dict[str, list[str]]:
    """An "Unknown field" message for each name not in `known`, with the nearest
    known name when one is close (a typo like "descripton")."""
    problems = {}
    for name in data:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems[name] = [f"Unknown field{hint}"]
    return problems


@functools.cache
def _submission_fields() -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    return dict(SubmissionSerializer().fields)  # built once: every submission asks


def submission_problems(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """What the web form cannot see: unknown fields, attachments, and values of the
    wrong JSON type (the form would store the list ["x", "y"] as the text
    "['x', 'y']")."""
    fields = _submission_fields()
    problems = unknown_fields(data, fields)
    if "attachments" in data:
        form_url = f"{settings.SITE_URL}{reverse('enquiries:form')}"
        problems["attachments"] = [
            f"Attachments are accepted only through the web form at {form_url}; "
            "the API takes the enquiry without them"
        ]
    for name, value in data.items():
        field = fields.get(name)
        if isinstance(field, serializers.BooleanField):
            if not isinstance(value, bool):
                problems[name] = ["Must be true or false"]
        elif field is not None and not isinstance(value, str):
            kind = next(label for kind, label in JSON_TYPES if isinstance(value, kind))
            problems[name] = [f"Must be a string, not {kind}"]
    return problems


def queue_parameter_problems(params: Mapping[str, str]) -> dict[str, list[str]]:
    """The queue's filter problems, and an ordering outside the allowlist."""
    problems = {k: [v] for k, v in services.queue_filter_problems(params).items()}
    ordering = params.get("ordering", "")
    if ordering and ordering not in ORDERING_CHOICES:
        problems["ordering"] = [
            f"Unknown ordering {ordering[:40]!r}; "
            f"use one of: {', '.join(ORDERING_CHOICES)}"
        ]
    return problems


def page_of(name: str, serializer: type[serializers.Serializer[Any]]) -> Any:
    """A cursor page: links to the next and previous pages, and the results."""
    return inline_serializer(name, {
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": serializer(many=True),
    })  # fmt: skip


# --- Views ---------------------------------------------------------------------


class QueueCursor(pagination.CursorPagination):
    page_size = 50
    max_page_size = 100
    page_size_query_param = "page_size"

    def get_ordering(
        self, request: Request, queryset: Any, view: Any
    ) -> tuple[str, ...]:
        raw = request.query_params.get("ordering", "-submitted")
        key = raw.lstrip("-")
        field = ORDERING.get(key, "submitted_at")
        sign = "-" if raw.startswith("-") or key not in ORDERING else ""
        return (f"{sign}{field}", f"{sign}id")


class EnquiryCollection(APIView):
    """POST is public (submit an enquiry); GET is the staff queue."""

    authentication_classes = [TokenAuthentication]

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return [IsStaffWithPermission()]

    @extend_schema(
        parameters=[
            *(OpenApiParameter(name, OpenApiTypes.STR, enum=allowed, required=False)
              for name, (_, allowed) in services.QUEUE_CHOICES.items()),
            OpenApiParameter("team", OpenApiTypes.INT, required=False, description="A team's id"),
            OpenApiParameter("assignee", OpenApiTypes.INT, required=False,
                             description="A staff member's user id"),
            OpenApiParameter("q", OpenApiTypes.STR, required=False, description=(
                "Words of the title or description, a reference (or its number), "
                "an email address or the start of an organisation name")),
            OpenApiParameter("ordering", OpenApiTypes.STR, enum=ORDERING_CHOICES, required=False),
            OpenApiParameter("cursor", OpenApiTypes.STR, required=False),
            OpenApiParameter("page_size", OpenApiTypes.INT, required=False),
        ],
        operation_id="v1_enquiries_list",
        description="A value a filter cannot use is a 400 naming the parameter and "
        "what it accepts; an empty value means any.",
        responses={200: page_of("EnquiryPage", EnquirySummarySerializer), 400: ERRORS, 404: DETAIL, **STAFF_ERRORS},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        problems = queue_parameter_problems(request.query_params)
        if problems:
            return Response(problems, status=400)
        enquiries = services.filter_queue(
            Enquiry.objects.visible_to(request.user), request.query_params
        )
        enquiries = enquiries.select_related("assigned_to").prefetch_related(
            "routings__team"
        )
        paginator = QueueCursor()
        page = paginator.paginate_queryset(enquiries, request, view=self)
        data = EnquirySummarySerializer(page, many=True).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=SubmissionSerializer,
        responses={
            201: inline_serializer("Submitted", {"reference": serializers.CharField(), "status_url": serializers.URLField()}),
            400: ERRORS,
            429: inline_serializer("TooMany", {"detail": serializers.CharField()}),
        },
        auth=[],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            return Response({"non_field_errors": ["Send a JSON object"]}, status=400)
        problems = submission_problems(request.data)
        data = {k: v for k, v in request.data.items() if k not in problems}
        for flag in ("consent", "confidential"):
            if flag in data:
                data[flag] = "on" if data[flag] else ""
        form = EnquiryForm(data=data, attachments_required=False)
        if problems or not form.is_valid():
            errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
            return Response(errors | problems, status=400)
        ip = ratelimit.client_ip(request._request)
        limit = settings.SUBMIT_RATE_LIMIT_PER_HOUR
        email = form.cleaned_data["email"]
        if ratelimit.submission_refused(ip=ip, email=email, limit=limit):
            return Response(
                {"detail": "Too many submissions; try again in an hour"}, status=429
            )
        fields = {
            k: v
            for k, v in form.cleaned_data.items()
            if k not in ("consent", "website")
        }
        enquiry, token = enquiry_services.submit_enquiry(**fields)
        status_url = enquiry_services.status_url(token)
        return Response(
            {"reference": enquiry.reference, "status_url": status_url}, status=201
        )


class EnquiryItem(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsStaffWithPermission]

    def _load(self, request: Request, reference: str) -> Enquiry:
        found = (
            Enquiry.objects.visible_to(request.user)
            .select_related("triage", "assigned_to")
            .prefetch_related("routings__team")
            .filter(reference=reference)
            .first()
        )
        if found is None:
            raise Http404("No such enquiry")
        return found

    @extend_schema(
        responses={200: EnquiryDetailSerializer, 404: DETAIL, **STAFF_ERRORS}
    )
    def get(self, request: Request, reference: str) -> Response:
        return Response(EnquiryDetailSerializer(self._load(request, reference)).data)

    @extend_schema(
        request=EnquiryPatchSerializer,
        responses={
            200: EnquiryDetailSerializer,
            400: ERRORS,
            404: DETAIL,
            **STAFF_ERRORS,
        },
    )
    def patch(self, request: Request, reference: str) -> Response:
        enquiry = self._load(request, reference)
        patch = EnquiryPatchSerializer(data=request.data)
        valid = patch.is_valid()
        unknown = (
            unknown_fields(request.data, patch.fields)
            if isinstance(request.data, dict)
            else {}
        )
        if not valid or unknown:
            return Response({**patch.errors, **unknown}, status=400)
        data = patch.validated_data
        actor: Any = request.user
        try:
            with transaction.atomic():
                if "product_type" in data or "process_types" in data:
                    services.confirm_labels(
                        enquiry=enquiry, actor=actor,
                        product_type=data.get("product_type"),
                        process_types=data.get("process_types"),
                    )  # fmt: skip
                if "teams" in data:
                    services.route_enquiry(
                        enquiry=enquiry, actor=actor, teams=data["teams"]
                    )
                if "assignee" in data:
                    services.assign_enquiry(
                        enquiry=enquiry, actor=actor, assignee=data["assignee"]
                    )
                if "status" in data:
                    services.change_status(
                        enquiry=enquiry, actor=actor, to=data["status"]
                    )
        except services.TriageError as exc:
            return Response({"non_field_errors": [str(exc)]}, status=400)
        return Response(EnquiryDetailSerializer(self._load(request, reference)).data)


class StatusView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={200: inline_serializer("Status", {
            "reference": serializers.CharField(), "title": serializers.CharField(),
            "status": serializers.CharField(), "status_label": serializers.CharField(),
            "submitted_at": serializers.DateTimeField(), "response_due": serializers.DateField(),
            "updated_at": serializers.DateTimeField(),
            "replies": serializers.ListField(child=serializers.DictField()),
        }), 404: inline_serializer("NotFound", {"detail": serializers.CharField()}),
            429: inline_serializer("StatusTooMany", {"detail": serializers.CharField()})},
        auth=[],
    )  # fmt: skip
    def get(self, request: Request, token: str) -> Response:
        ip = ratelimit.client_ip(request._request)
        if ratelimit.over_limit(
            scope="status", key=ip, limit=settings.STATUS_RATE_LIMIT_PER_HOUR
        ):
            return Response(
                {"detail": "Too many look-ups; try again in an hour"}, status=429
            )
        enquiry = Enquiry.objects.by_status_token(token)
        if enquiry is None:
            raise Http404("No enquiry")
        return Response({
            "reference": enquiry.reference, "title": enquiry.title,
            "status": enquiry.status, "status_label": enquiry.get_status_display(),
            "submitted_at": enquiry.submitted_at, "response_due": enquiry.response_due,
            "updated_at": enquiry.updated_at,
            "replies": [{"sent_at": r.sent_at, "body": r.body} for r in enquiry.replies.all()],
        })  # fmt: skip


class CaseStudyCollection(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("product_type", OpenApiTypes.STR, enum=taxonomy.PRODUCT_TYPES,
                                     required=False),
                    OpenApiParameter("cursor", OpenApiTypes.STR, required=False)],
        operation_id="v1_case_studies_list",
        responses={200: page_of("CaseStudyPage", CaseStudySerializer), 400: ERRORS, 404: DETAIL},
        auth=[],
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        studies = CaseStudy.objects.published()
        product = request.query_params.get("product_type", "")
        if product and product not in taxonomy.PRODUCT_TYPES:
            allowed = ", ".join(taxonomy.PRODUCT_TYPES)
            return Response(
                {"product_type": [f"Unknown product type {product[:40]!r}; "
                                  f"use one of: {allowed}"]},
                status=400,
            )  # fmt: skip
        if product:
            studies = studies.filter(product_type=product)
        paginator = pagination.CursorPagination()
        paginator.ordering = ("-updated_at", "-id")  # never null, unlike published
        paginator.page_size = 50
        page = paginator.paginate_queryset(studies, request, view=self)
        return paginator.get_paginated_response(
            CaseStudySerializer(page, many=True).data
        )


class CaseStudyItem(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={
            200: CaseStudyDetailSerializer,
            404: inline_serializer("CaseNotFound", {"detail": serializers.CharField()}),
        },
        auth=[],
    )
    def get(self, request: Request, slug: str) -> Response:
        study = CaseStudy.objects.published().filter(slug=slug).first()
        if study is None:
            raise Http404("No such case study")
        return Response(CaseStudyDetailSerializer(study).data)


class ApiDocs(SpectacularSwaggerSplitView):
    """Swagger UI. Its HTML renderer cannot render DRF's OPTIONS metadata (that
    was a 500), so OPTIONS answers with the allowed methods and no body."""

    def options(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse()
        response["Allow"] = ", ".join(self.allowed_methods)
        return response
