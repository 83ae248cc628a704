from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from casestudies.models import CaseStudy
from enquiries import taxonomy
from enquiries.models import Enquiry

from . import services

TABS = {
    "all": ("All", Q()),
    "needs-review": (
        "Needs review",
        Q(triage__needs_review=True)
        | Q(classification_state=Enquiry.ClassificationState.MANUAL),
    ),
    "unclassified": (
        "Waiting for the model",
        Q(classification_state=Enquiry.ClassificationState.PENDING),
    ),
    "new": ("New", Q(status=Enquiry.Status.NEW)),
    "closed": (
        "Closed",
        Q(status__in=[Enquiry.Status.CLOSED, Enquiry.Status.OUT_OF_SCOPE]),
    ),
}


@staff_member_required
def queue(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "all")
    _label, condition = TABS.get(tab, TABS["all"])
    enquiries = Enquiry.objects.filter(condition).select_related("triage").only(
        "reference", "title", "organisation_name", "status", "submitted_at",
        "response_due", "classification_state", "triage__product_type",
        "triage__product_confidence", "triage__process_types", "triage__needs_review",
    )  # fmt: skip
    page = Paginator(enquiries, 50).get_page(request.GET.get("page"))
    context = {"page": page, "tab": tab, "tabs": {k: v[0] for k, v in TABS.items()}}
    return render(request, "triage/queue.html", context)


@staff_member_required
def enquiry_detail(request: HttpRequest, reference: str) -> HttpResponse:
    enquiry = get_object_or_404(
        Enquiry.objects.select_related("triage"), reference=reference
    )
    triage = getattr(enquiry, "triage", None)
    suggestions = []
    if triage is not None:
        found = CaseStudy.objects.matches_for(f"{enquiry.title}\n{enquiry.description}")
        suggestions = [{"study": s, "terms": ", ".join(m.terms)} for s, m in found]
    context = {
        "enquiry": enquiry,
        "triage": triage,
        "product_label": taxonomy.label("product_types", triage.product_type)
        if triage
        else "",
        "process_rows": [
            {
                "code": code,
                "label": taxonomy.label("process_types", code),
                "confidence": conf,
                "percent": round(conf * 100),
                "chosen": code in triage.process_types,
            }
            for code, conf in sorted(
                triage.process_confidences.items(), key=lambda kv: -kv[1]
            )
        ]
        if triage
        else [],
        "suggestions": suggestions,
        "events": enquiry.events.select_related("actor"),
        "attachments": enquiry.attachments.all(),
    }
    return render(request, "triage/enquiry.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: database, broker, classification backlog, model version."""
    report = services.health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@staff_member_required
@require_POST
def reply(request: HttpRequest, reference: str) -> HttpResponse:
    enquiry = get_object_or_404(Enquiry, reference=reference)
    author = request.user if isinstance(request.user, User) else None
    try:
        services.reply_to_enquiry(
            enquiry=enquiry,
            author=author,
            body=request.POST.get("body", "")[:20_000],
            case_study_slugs=request.POST.getlist("case_studies")[:10],
        )
    except services.ReplyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Reply sent.")
    return redirect("triage:enquiry", reference=reference)
