from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from enquiries import taxonomy
from enquiries.models import Enquiry
from enquiries.permissions import staff_required

from . import services
from .forms import CaseStudyForm
from .models import CaseStudy

PAGE_SIZE = 20


def case_study_list(request: HttpRequest) -> HttpResponse:
    studies = CaseStudy.objects.published()
    product = request.GET.get("product_type", "")
    process = request.GET.get("process_type", "")
    query = request.GET.get("q", "").strip()[:200]
    if product in taxonomy.PRODUCT_TYPES:
        studies = studies.filter(product_type=product)
    if process in taxonomy.PROCESS_TYPES:
        # portable across SQLite and PostgreSQL: match the quoted code in the JSON
        studies = studies.filter(process_types__icontains=f'"{process}"')
    if query:
        studies = studies.search(query)
    page = Paginator(studies, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "product": product,
        "process": process,
        "product_choices": taxonomy.choices("product_types"),
        "process_choices": taxonomy.choices("process_types"),
    }
    return render(request, "casestudies/list.html", context)


def case_study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(CaseStudy.objects.published(), slug=slug)
    related = [
        s
        for s in CaseStudy.objects.suggest_for(study.matching_text(), limit=4)
        if s.pk != study.pk
    ][:3]
    context = {"study": study, "related": related}
    return render(request, "casestudies/detail.html", context)


# Editorial pages (staff with the case-study editor permission)
EDIT = "casestudies.change_casestudy"
PUBLISH = "casestudies.publish_casestudy"


def _editor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@staff_required(EDIT)
def editor_list(request: HttpRequest) -> HttpResponse:
    studies = CaseStudy.objects.order_by("-updated_at")
    return render(request, "casestudies/editor_list.html", {"studies": studies})


@staff_required(EDIT)
@require_http_methods(["GET", "HEAD", "POST"])
def editor_new(request: HttpRequest) -> HttpResponse:
    form = CaseStudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        study = services.save_case_study(
            case_study=None,
            editor=_editor(request),
            data=form.cleaned_data,
        )
        return redirect("casestudies:edit", pk=study.pk)
    return render(request, "casestudies/editor_form.html", {"form": form})


@staff_required(EDIT)
@require_POST
def editor_from_enquiry(request: HttpRequest, reference: str) -> HttpResponse:
    enquiry = get_object_or_404(
        Enquiry.objects.visible_to(request.user), reference=reference
    )
    try:
        study = services.start_case_study_from_enquiry(
            enquiry=enquiry, editor=_editor(request)
        )
    except services.TransitionError as exc:
        messages.error(request, str(exc))
        return redirect("triage:enquiry", reference=reference)
    return redirect("casestudies:edit", pk=study.pk)


@staff_required(EDIT)
@require_http_methods(["GET", "HEAD", "POST"])
def editor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(CaseStudy, pk=pk)
    form = CaseStudyForm(request.POST or None, instance=study)
    if request.method == "POST" and form.is_valid():
        services.save_case_study(
            case_study=study, editor=_editor(request), data=form.cleaned_data
        )
        messages.success(request, "Saved.")
        return redirect("casestudies:edit", pk=study.pk)
    context = {
        "form": form,
        "study": study,
        "flags": services.anonymisation_flags(study),
        "moves": sorted(services.TRANSITIONS.get(study.status, set())),
        "can_publish": request.user.has_perm(PUBLISH),
        "revisions": study.revisions.select_related("editor")[:20],
    }
    return render(request, "casestudies/editor_form.html", context)


@staff_required(EDIT)
def editor_preview(request: HttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(CaseStudy, pk=pk)
    return render(request, "casestudies/detail.html", {"study": study, "preview": True})


@staff_required(EDIT)
@require_POST
def editor_move(request: HttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(CaseStudy, pk=pk)
    target = request.POST.get("to", "")
    publishing = {CaseStudy.Status.PUBLISHED, CaseStudy.Status.WITHDRAWN}
    if target in publishing and not request.user.has_perm(PUBLISH):
        raise PermissionDenied("Publishing needs the publish permission")
    try:
        services.move_case_study(case_study=study, editor=_editor(request), to=target)
    except services.TransitionError as exc:
        messages.error(request, str(exc))
    return redirect("casestudies:edit", pk=study.pk)
