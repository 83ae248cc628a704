from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from casestudies.models import CaseStudy

from . import ratelimit, services, taxonomy
from .forms import KIND_LABELS, EnquiryForm
from .models import Enquiry
from .services import StagedFile

DRAFT = "enquiry_draft"
SUBMITTED = "enquiry_submitted"  # reference and token, for the confirmation page once
SENT = "enquiry_sent"  # the reference alone, for a refresh or a repeated submit


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "enquiries/too_many.html", status=429)
    response["Retry-After"] = str(ratelimit.WINDOW_SECONDS)
    return response


def _staged(draft: dict[str, Any]) -> list[StagedFile]:
    return [StagedFile(**item) for item in draft.get("attachments", [])]


def start(request: HttpRequest) -> HttpResponse:
    return render(request, "enquiries/start.html")


@require_http_methods(["GET", "HEAD", "POST"])
def enquiry_form(request: HttpRequest) -> HttpResponse:
    draft: dict[str, Any] = request.session.get(DRAFT, {})
    if request.method in ("GET", "HEAD"):
        form = EnquiryForm(initial=draft)
        return render(request, "enquiries/form.html", {"form": form, "draft": draft})
    limit = settings.SUBMIT_RATE_LIMIT_PER_HOUR * 5
    ip = ratelimit.client_ip(request)
    if ratelimit.over_limit(scope="form", key=ip, limit=limit):
        return _too_many(request)
    form = EnquiryForm(request.POST, request.FILES)
    valid = form.is_valid()
    # Files that passed their own checks are kept even when another field did not:
    # a browser cannot refill a file input, so the page lists them as attached.
    if uploads := form.cleaned_data.get("attachments"):  # new files replace old ones
        services.discard_staged(staged=_staged(draft))
        staged = [services.stage_upload(upload=u, content_type=k) for u, k in uploads]
        draft = {**draft, "attachments": [s.as_dict() for s in staged]}
        request.session[DRAFT] = draft
    if not valid:
        ctx = {"form": form, "draft": draft}
        return render(request, "enquiries/form.html", ctx, status=400)
    data = {k: v for k, v in form.cleaned_data.items() if k not in ("attachments",)}
    data["attachments"] = draft.get("attachments", [])
    # the status token is fixed when the draft begins: it makes the submit idempotent
    data["token"] = draft.get("token") or services.new_status_token()
    request.session[DRAFT] = data
    return redirect("enquiries:check")


@require_http_methods(["GET", "HEAD", "POST"])
def check_answers(request: HttpRequest) -> HttpResponse:
    draft: dict[str, Any] | None = request.session.get(DRAFT)
    if not draft:  # sent already (Back, then send again), or never begun
        sent = SUBMITTED in request.session or SENT in request.session
        return redirect("enquiries:submitted" if sent else "enquiries:form")
    if "token" not in draft:  # only files so far: the form has not passed yet
        return redirect("enquiries:form")
    if request.method in ("GET", "HEAD"):
        return render(request, "enquiries/check.html", _check_context(draft))
    ip = ratelimit.client_ip(request)
    limit = settings.SUBMIT_RATE_LIMIT_PER_HOUR
    if ratelimit.submission_refused(ip=ip, email=draft["email"], limit=limit):
        return _too_many(request)
    # Take the draft out first. A second click that read the session before this
    # save still has the draft: its token makes submit_enquiry return the same
    # enquiry instead of storing it twice.
    del request.session[DRAFT]
    request.session.save()
    skip = ("attachments", "consent", "website", "token")
    fields = {k: v for k, v in draft.items() if k not in skip}
    enquiry, token = services.submit_enquiry(
        **fields, staged=_staged(draft), token=draft["token"]
    )
    request.session[SUBMITTED] = {"reference": enquiry.reference, "token": token}
    return redirect("enquiries:submitted")


def _check_context(draft: dict[str, Any]) -> dict[str, Any]:
    text = f"{draft['title']}\n{draft['description']}"
    return {
        "draft": draft,
        "attachments": [
            {**a, "kind": KIND_LABELS.get(a["content_type"], "")}
            for a in draft.get("attachments", [])
        ],
        "labels": {
            "organisation_type": taxonomy.label(
                "organisation_types", draft["organisation_type"]
            ),
            "development_stage": taxonomy.label(
                "development_stages", draft["development_stage"]
            ),
            "product_type_guess": taxonomy.label(
                "product_types", draft["product_type_guess"]
            )
            if draft.get("product_type_guess")
            else "Not sure",
        },
        "suggestions": CaseStudy.objects.suggest_for(text, limit=3),
    }


def submitted(request: HttpRequest) -> HttpResponse:
    """The confirmation. The private status link is shown once; a refresh shows the
    reference only (the link is in the acknowledgement email)."""
    done = request.session.pop(SUBMITTED, None)
    if done:
        request.session[SENT] = done["reference"]
        context = {
            "reference": done["reference"],
            "status_url": services.status_url(done["token"]),
        }
    elif reference := request.session.get(SENT):
        context = {"reference": reference, "status_url": None}
    else:
        return redirect("enquiries:start")
    return render(request, "enquiries/submitted.html", context)


def status(request: HttpRequest, token: str) -> HttpResponse:
    ip = ratelimit.client_ip(request)
    limit = settings.STATUS_RATE_LIMIT_PER_HOUR
    if ratelimit.over_limit(scope="status", key=ip, limit=limit):
        return _too_many(request)
    enquiry = Enquiry.objects.by_status_token(token)
    if enquiry is None:
        raise Http404("No enquiry")
    context = {"enquiry": enquiry, "replies": enquiry.replies.all()}
    return render(request, "enquiries/status.html", context)


ASSET = re.compile(r"(fonts|images|rebrand/images)/[A-Za-z0-9._-]+")


def frontend_asset(request: HttpRequest, path: str) -> HttpResponse:
    """GOV.UK Frontend's compiled CSS asks for /assets/...: send it to static."""
    if not ASSET.fullmatch(path):
        raise Http404
    try:
        url = staticfiles_storage.url(f"govuk/assets/{path}")
    except ValueError:  # not in the manifest
        raise Http404 from None
    return HttpResponsePermanentRedirect(url)


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "enquiries/privacy.html")


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "enquiries/accessibility.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found"}, status=404)
    return render(request, "404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent from a page open too long (or without cookies): say what to do."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "CSRF check failed; sign in again"}, status=403)
    return render(request, "403_csrf.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Server error; nothing you sent was lost"}, status=500
        )
    return render(request, "500.html", status=500)
