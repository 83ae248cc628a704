from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from casestudies.models import CaseStudy
from enquiries import privacy, taxonomy
from enquiries.models import CLOSED_STATES, Enquiry, overdue_q
from enquiries.permissions import staff_required
from enquiries.services import attachment_path

from . import insight, services
from .forms import LabelsForm
from .models import CannedResponse, ClassifierVersion, Team, Triage

PAGE_SIZE = 50
QUEUE_FIELDS = (
    "reference", "title", "organisation_name", "status", "submitted_at", "response_due",
    "clock_paused_at", "classification_state", "assigned_to__username",
    "triage__product_type", "triage__product_confidence", "triage__process_types",
    "triage__process_confidences", "triage__needs_review",
    "triage__labels_confirmed_at",
)  # fmt: skip
TRIAGE = "enquiries.triage_enquiry"
SORTS = {  # the only sort keys accepted; anything else falls back to the default
    "submitted": "submitted_at",
    "due": "response_due",
    "reference": "reference",
}


def _tabs(user: Any) -> dict[str, tuple[str, Q]]:
    return {
        "new": ("New", Q(status=Enquiry.Status.NEW)),
        "needs-review": (
            "Needs review",
            Q(triage__needs_review=True, triage__labels_confirmed_at__isnull=True)
            | Q(classification_state=Enquiry.ClassificationState.MANUAL),
        ),
        "my-team": ("My team", Q(routings__team__members=user)),
        "mine": ("Assigned to me", Q(assigned_to=user)),
        "awaiting": ("Awaiting enquirer", Q(status=Enquiry.Status.AWAITING_ENQUIRER)),
        "overdue": ("Overdue", overdue_q()),
        "closed": ("Closed", Q(status__in=CLOSED_STATES)),
        "all": ("All", Q()),
    }


def _tab_counts(
    user: Any, visible: QuerySet[Enquiry], tabs: dict[str, Any]
) -> dict[str, int]:
    scope = "all" if user.has_perm("enquiries.view_all_enquiries") else f"u{user.pk}"
    key = f"queue-counts:{scope}:{user.pk}"
    counts: dict[str, int] | None = cache.get(key)
    if counts is None:
        counts = visible.aggregate(
            **{
                k.replace("-", "_"): Count("pk", filter=q, distinct=True)
                for k, (_, q) in tabs.items()
            }
        )
        cache.set(key, counts, 30)
    return {k: counts[k.replace("-", "_")] for k in tabs}


def _page(
    request: HttpRequest, enquiries: QuerySet[Enquiry]
) -> tuple[list[Enquiry], str, str]:
    """Keyset pagination on an allowlisted sort: flat cost at any depth."""
    raw = request.GET.get("sort", "-submitted")
    descending = raw.startswith("-")
    key = raw.lstrip("-") if raw.lstrip("-") in SORTS else "submitted"
    field = SORTS[key]
    sort = ("-" if descending else "") + key
    order = [f"-{field}", "-id"] if descending else [field, "id"]
    after = request.GET.get("after", "")
    value, _, last_id = after.rpartition("|")
    if last_id.isdigit() and value:
        try:
            typed: Any = (
                date.fromisoformat(value[:10]) if field == "response_due" else value
            )
            if field == "submitted_at":
                typed = datetime.fromisoformat(value)
        except ValueError:
            typed = None
        if typed is not None:
            op = "lt" if descending else "gt"
            enquiries = enquiries.filter(
                # the first bound lets the database walk the index from the cursor
                Q(**{f"{field}__{op}e": typed})
                & (
                    Q(**{f"{field}__{op}": typed})
                    | Q(**{field: typed, f"id__{op}": int(last_id)})
                )
            )
    rows = list(enquiries.order_by(*order)[: PAGE_SIZE + 1])
    cursor = ""
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        value = (
            last.reference if field == "reference" else getattr(last, field).isoformat()
        )
        cursor = f"{value}|{last.pk}"
    return rows, cursor, sort


SORT_CHOICES = [
    ("-submitted", "Newest first"),
    ("submitted", "Oldest first"),
    ("due", "Due soonest"),
    ("-due", "Due latest"),
    ("reference", "Reference"),
]
STATUS_LABELS = dict(Enquiry.Status.choices)
TAXONOMY_FILTERS = ("product_type", "process_type", "organisation_type")
FILTERS = ("q", "status", "team", "assignee", *TAXONOMY_FILTERS)


def _options(
    choices: list[tuple[str, str]], chosen: str
) -> list[tuple[str, str, bool]]:
    return [(str(value), label, str(value) == chosen) for value, label in choices]


def _row(e: Enquiry) -> dict[str, Any]:
    """Everything one queue row shows, prepared here so the template stays cheap."""
    triage: Triage | None = getattr(e, "triage", None)
    if triage is not None and triage.product_type:
        confidences = triage.process_confidences
        state = (
            "confirmed"
            if triage.labels_confirmed_at
            else ("review" if triage.needs_review else "auto")
        )
        prediction = f"{triage.product_type} ({triage.product_confidence:.2f})"
        processes = [f"{p} ({confidences.get(p, 0):.2f})" for p in triage.process_types]
    else:
        state = "manual" if e.classification_state == "manual" else "waiting"
        prediction, processes = "", []
    return {
        "pk": e.pk,
        "reference": e.reference,
        "title": e.title,
        "organisation": e.organisation_name,
        "prediction": prediction,
        "processes": processes,
        "state": state,
        "teams": ", ".join(r.team.name for r in e.routings.all()) or "-",
        "status": STATUS_LABELS.get(e.status, e.status),
        "assignee": e.assigned_to.username if e.assigned_to else "",
        "due": e.response_due,
        "paused": e.clock_paused_at is not None,
        "overdue": e.is_overdue,
    }


@staff_required("enquiries.view_enquiry")
def queue(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    g = request.GET
    visible = Enquiry.objects.visible_to(user)
    tabs = _tabs(user)
    tab = g.get("tab", "all") if g.get("tab") in tabs else "all"
    enquiries = services.filter_queue(visible.filter(tabs[tab][1]), g)
    if tab == "my-team":  # a join on routings, like the team filter
        enquiries = enquiries.distinct()
    enquiries = (
        enquiries.select_related("triage", "assigned_to")
        .prefetch_related("routings__team")
        .only(*QUEUE_FIELDS)
    )
    rows, cursor, sort = _page(request, enquiries)
    params = g.copy()
    params.pop("after", None)
    counts = _tab_counts(user, visible, tabs)
    teams = [(str(t.pk), t.name) for t in Team.objects.all()]
    staff = [
        (str(pk), name)
        for pk, name in User.objects.filter(is_staff=True, is_active=True)
        .order_by("username")
        .values_list("pk", "username")
    ]
    context = {
        "rows": [_row(e) for e in rows],
        "tab": tab,
        "tab_label": tabs[tab][0],
        "tabs": [(k, label, counts[k]) for k, (label, _) in tabs.items()],
        "cursor": cursor,
        "params": params.urlencode(),
        "query": g.get("q", ""),
        "filters_open": any(g.get(k) for k in FILTERS),
        "options": {
            **{
                k: _options(taxonomy.choices(f"{k}s"), g.get(k, ""))
                for k in TAXONOMY_FILTERS
            },
            "status": _options(Enquiry.Status.choices, g.get("status", "")),
            "team": _options(teams, g.get("team", "")),
            "assignee": _options(staff, g.get("assignee", "")),
            "sort": _options(SORT_CHOICES, sort),
        },
        "needs_review": g.get("needs_review") == "yes",
        "overdue": g.get("overdue") == "yes",
        "teams": teams,
        "staff": staff,
        "can_triage": user.has_perm(TRIAGE),
    }  # fmt: skip
    return render(request, "triage/queue.html", context)


def _visible(request: HttpRequest, reference: str) -> Enquiry:
    return get_object_or_404(
        Enquiry.objects.visible_to(request.user).select_related("triage"),
        reference=reference,
    )


@staff_required("enquiries.view_enquiry")
def enquiry_detail(request: HttpRequest, reference: str) -> HttpResponse:
    enquiry = _visible(request, reference)
    triage: Triage | None = getattr(enquiry, "triage", None)
    found = CaseStudy.objects.matches_for(f"{enquiry.title}\n{enquiry.description}")
    chosen = (triage.final_process_types or triage.process_types) if triage else []
    context = {
        "enquiry": enquiry,
        "triage": triage,
        "product_label": taxonomy.label("product_types", triage.product_type)
        if triage and triage.product_type
        else "",
        "process_rows": [
            {
                "label": taxonomy.label("process_types", code),
                "confidence": conf,
                "percent": round(conf * 100),
                "chosen": code in chosen,
            }
            for code, conf in sorted(
                (triage.process_confidences if triage else {}).items(),
                key=lambda kv: -kv[1],
            )
        ],
        "suggestions": [{"study": s, "terms": ", ".join(m.terms)} for s, m in found],
        "events": enquiry.events.select_related("actor"),
        "attachments": enquiry.attachments.all(),
        "labels_form": LabelsForm(
            initial={
                "product_type": (triage.final_product_type or triage.product_type)
                if triage
                else "",
                "process_types": chosen,
            }
        ),
        "teams": Team.objects.all(),
        "routed": set(enquiry.routings.values_list("team_id", flat=True)),
        "staff": User.objects.filter(is_staff=True, is_active=True).order_by(
            "username"
        ),
        "moves": [
            (s, dict(Enquiry.Status.choices)[s])
            for s in sorted(services.TRANSITIONS.get(enquiry.status, ()))
        ],
        "canned": CannedResponse.objects.all(),
        "similar": services.similar_enquiries(
            enquiry=enquiry, visible=Enquiry.objects.visible_to(request.user)
        ),
        "can_triage": request.user.has_perm(TRIAGE),
    }
    return render(request, "triage/enquiry.html", context)


@staff_required("enquiries.view_enquiry")
def attachment(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """Staff only, and always as a download: never rendered in the browser."""
    enquiry = _visible(request, reference)
    item = get_object_or_404(enquiry.attachments, pk=pk)
    path = attachment_path(item)
    if not path.exists():
        raise Http404("The file is no longer stored")
    actor = request.user if isinstance(request.user, User) else None
    services.record_download(enquiry=enquiry, actor=actor, name=item.original_name)
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=item.original_name,
        content_type="application/octet-stream",
    )  # fmt: skip
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _act(request: HttpRequest, reference: str, action: Any, done: str) -> HttpResponse:
    enquiry = _visible(request, reference)
    actor = request.user if isinstance(request.user, User) else None
    try:
        action(enquiry, actor)
    except (services.TriageError, services.ReplyError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("triage:enquiry", reference=reference)


@staff_required(TRIAGE)
@require_POST
def accept(request: HttpRequest, reference: str) -> HttpResponse:
    return _act(
        request,
        reference,
        lambda e, a: services.confirm_labels(enquiry=e, actor=a),
        "Classification accepted.",
    )


@staff_required(TRIAGE)
@require_POST
def correct(request: HttpRequest, reference: str) -> HttpResponse:
    _visible(request, reference)  # 404 before anything else for other teams' work
    form = LabelsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a product type and valid process types")
        return redirect("triage:enquiry", reference=reference)
    data = form.cleaned_data

    def action(enquiry: Enquiry, actor: User | None) -> None:
        services.confirm_labels(
            enquiry=enquiry,
            actor=actor,
            product_type=data["product_type"],
            process_types=data["process_types"],
        )

    return _act(request, reference, action, "Labels corrected.")


@staff_required(TRIAGE)
@require_POST
def route(request: HttpRequest, reference: str) -> HttpResponse:
    ids = [int(t) for t in request.POST.getlist("teams") if t.isdigit()]
    teams = list(Team.objects.filter(pk__in=ids))
    return _act(
        request,
        reference,
        lambda e, a: services.route_enquiry(enquiry=e, actor=a, teams=teams),
        "Routed.",
    )


@staff_required(TRIAGE)
@require_POST
def assign(request: HttpRequest, reference: str) -> HttpResponse:
    raw = request.POST.get("assignee", "")
    assignee = (
        User.objects.filter(pk=int(raw), is_staff=True).first()
        if raw.isdigit()
        else None
    )
    return _act(
        request,
        reference,
        lambda e, a: services.assign_enquiry(enquiry=e, actor=a, assignee=assignee),
        "Assigned.",
    )


@staff_required(TRIAGE)
@require_POST
def move(request: HttpRequest, reference: str) -> HttpResponse:
    to = request.POST.get("to", "")
    return _act(
        request,
        reference,
        lambda e, a: services.change_status(enquiry=e, actor=a, to=to),
        "Status changed.",
    )


@staff_required(TRIAGE)
@require_POST
def note(request: HttpRequest, reference: str) -> HttpResponse:
    text = request.POST.get("note", "")[:5000]
    return _act(
        request,
        reference,
        lambda e, a: services.add_note(enquiry=e, actor=a, text=text),
        "Note added.",
    )


@staff_required(TRIAGE)
@require_POST
def reply(request: HttpRequest, reference: str) -> HttpResponse:
    body = request.POST.get("body", "")[:20_000]
    canned = request.POST.get("canned", "")
    if canned.isdigit() and (
        template := CannedResponse.objects.filter(pk=int(canned)).first()
    ):
        body = f"{template.body}\n\n{body}".strip()
    slugs = request.POST.getlist("case_studies")[:10]

    def action(enquiry: Enquiry, actor: User | None) -> None:
        services.reply_to_enquiry(
            enquiry=enquiry, author=actor, body=body, case_study_slugs=slugs
        )

    return _act(request, reference, action, "Reply sent.")


@staff_required(TRIAGE)
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign, route or accept several enquiries at once (only those visible)."""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()][:PAGE_SIZE]
    enquiries = Enquiry.objects.visible_to(request.user).filter(pk__in=ids)
    actor = request.user if isinstance(request.user, User) else None
    action = request.POST.get("action", "")
    done = failed = 0
    for enquiry in enquiries:
        try:
            if action == "accept":
                services.confirm_labels(enquiry=enquiry, actor=actor)
            elif action == "assign":
                raw = request.POST.get("assignee", "")
                assignee = (
                    User.objects.filter(pk=int(raw), is_staff=True).first()
                    if raw.isdigit()
                    else None
                )
                services.assign_enquiry(enquiry=enquiry, actor=actor, assignee=assignee)
            elif action == "route":
                teams = list(
                    Team.objects.filter(
                        pk__in=[
                            int(t) for t in request.POST.getlist("teams") if t.isdigit()
                        ]
                    )
                )
                services.route_enquiry(enquiry=enquiry, actor=actor, teams=teams)
            else:
                messages.error(request, "Choose an action")
                return redirect("triage:queue")
            done += 1
        except services.TriageError:
            failed += 1
    messages.success(
        request,
        f"{done} enquiries updated"
        + (f", {failed} could not be" if failed else "")
        + ".",
    )
    return redirect("triage:queue")


@staff_required("triage.change_classifierversion")
def model_quality(request: HttpRequest) -> HttpResponse:
    """Per class: precision against staff labels, share auto-accepted, threshold."""
    version = ClassifierVersion.objects.active()
    if request.method == "POST" and version is not None:
        if request.POST.get("retrain"):
            from .tasks import retrain_classifier

            retrain_classifier.delay()
            messages.success(
                request,
                "Retraining started; a better model is activated when it finishes.",
            )
            return redirect("triage:model")
        overrides = {}
        for code in taxonomy.PRODUCT_TYPES:
            raw = request.POST.get(f"threshold-{code}", "").strip()
            try:
                if raw and 0.0 <= float(raw) <= 1.01:
                    overrides[code] = round(float(raw), 4)
            except ValueError:
                messages.error(
                    request, f"Threshold for {code} must be a number from 0 to 1.01"
                )
                return redirect("triage:model")
        version.review_overrides = overrides
        version.save(update_fields=["review_overrides"])
        messages.success(request, "Thresholds saved.")
        return redirect("triage:model")
    context = {
        "version": version,
        "rows": services.model_quality_rows(version),
        "versions": ClassifierVersion.objects.all()[:20],
    }
    return render(request, "triage/model.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: database, broker, classification backlog, model version."""
    report = services.health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@staff_required("enquiries.erase_personal_data")
def data_requests(request: HttpRequest) -> HttpResponse:
    """Subject access (export) and erasure requests for one email address."""
    email = request.POST.get("email", "").strip()[:254]
    if request.method == "POST" and email:
        if request.POST.get("action") == "export":
            response = JsonResponse(
                privacy.export_enquirer(email=email), json_dumps_params={"indent": 2}
            )
            response["Content-Disposition"] = (
                'attachment; filename="personal-data.json"'
            )
            return response
        if request.POST.get("action") == "erase":
            if request.POST.get("confirm") != "yes":
                messages.error(request, "Tick the box to confirm the erasure")
            else:
                actor = request.user if isinstance(request.user, User) else None
                count = privacy.erase_enquirer(
                    email=email,
                    actor=actor,
                    reason="erasure requested by the data subject",
                )
                messages.success(
                    request, f"Personal data erased from {count} enquiries."
                )
            return redirect("triage:data_requests")
    return render(request, "triage/data_requests.html")


INSIGHT_TABLES = {
    "service": {
        "weeks": ["week", "received", "answered"],
        "teams": ["team", "backlog", "overdue"],
        "people": ["person", "open"],
    },
    "model": {
        "by_class": ["code", "confirmed", "agreement"],
        "confusion": ["predicted", "final", "n"],
    },
    "horizon": {
        "per_product_month": ["month", "product_type", "n"],
        "rising_process_types": ["code", "earlier", "later", "change"],
        "organisation_types": ["type", "n"],
        "growing_terms": ["term", "earlier", "later", "change"],
    },
}


def _bars(title: str, pairs: list[tuple[str, float]]) -> dict[str, Any]:
    """Rows for a horizontal SVG bar chart (attributes only, so CSP-safe)."""
    top = max([v for _, v in pairs] + [1e-9])
    rows = [
        {"label": label, "value": value, "width": round(360 * value / top), "y": i * 22}
        for i, (label, value) in enumerate(pairs)
    ]
    return {"title": title, "rows": rows, "height": max(22, 22 * len(rows))}


def _charts(section: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    if section == "service":
        return [
            _bars(
                "Enquiries received per week",
                [(f"{w['week']:%d %b}", w["received"]) for w in data["weeks"]],
            ),
            _bars(
                "Open enquiries per team",
                [(t["team"], t["backlog"]) for t in data["teams"]],
            ),
        ]
    if section == "model":
        return [
            _bars(
                "Agreement with staff labels per predicted class (%)",
                [
                    (r["code"], round(100 * r["agreement"]))
                    for r in data["by_class"]
                    if r["agreement"] is not None
                ],
            )
        ]
    return [
        _bars(
            "Process types in the later half of the period",
            [(r["code"], r["later"]) for r in data["rising_process_types"]],
        ),
        _bars(
            "Enquiries by organisation type",
            [(r["type"], r["n"]) for r in data["organisation_types"]],
        ),
    ]


def _window(request: HttpRequest) -> insight.Window:
    today = timezone.localdate()
    try:
        end = (
            date.fromisoformat(request.GET.get("to", ""))
            if request.GET.get("to")
            else today
        )
        start = (
            date.fromisoformat(request.GET["from"])
            if request.GET.get("from")
            else end - timedelta(weeks=12)
        )
    except (ValueError, OverflowError):
        start, end = today - timedelta(weeks=12), today
    floor = date(2000, 1, 1)  # nothing older exists; keeps date arithmetic in range
    start, end = max(min(start, today), floor), max(min(end, today), floor)
    team = request.GET.get("team", "")
    return insight.Window(
        min(start, end), max(start, end), int(team) if team.isdigit() else None
    )


@staff_required("enquiries.view_all_enquiries")
def insight_page(request: HttpRequest) -> HttpResponse:
    """Service, model and horizon-scanning dashboards, with a CSV of every table."""
    section = request.GET.get("section", "service")
    section = section if section in INSIGHT_TABLES else "service"
    window = _window(request)
    data = {
        "service": insight.service,
        "model": insight.model_quality,
        "horizon": insight.horizon,
    }[section](window)
    table = request.GET.get("export", "")
    if table in INSIGHT_TABLES[section]:
        columns = INSIGHT_TABLES[section][table]
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="{section}-{table}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(columns)
        for row in data[table]:
            writer.writerow([row[c] for c in columns])
        return response
    params = request.GET.copy()
    params.pop("export", None)
    context = {
        "charts": _charts(section, data),
        "section": section,
        "window": window,
        "data": data,
        "teams": Team.objects.all(),
        "params": params.urlencode(),
    }
    return render(request, f"triage/insight_{section}.html", context)
