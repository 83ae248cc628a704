from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from enquiries import taxonomy

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
