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
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from casestudies.models import CaseStudy
from enquiries import privacy, taxonomy
from enquiries.models import CLOSED_STATES, Enquiry, overdue_q
from enquiries.permissions import staff_required
from enquiries.services import attachment_path

from . import insight, services
from .forms import DataRequestForm, LabelsForm, ReplyForm, ThresholdsForm
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
        "needs-review": ("Needs review", services.needs_review_q()),
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
    if (last_pk := services.parse_id(last_id)) and value:
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
                    | Q(**{field: typed, f"id__{op}": last_pk})
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
# Staff-facing status names: Enquiry.Status labels are written for the enquirer
STATUS_LABELS: dict[str, str] = {
    **dict(Enquiry.Status.choices),
    Enquiry.Status.AWAITING_ENQUIRER: "Awaiting enquirer",
}
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
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    g = request.GET
    visible = Enquiry.objects.visible_to(user)
    tabs = _tabs(user)
    tab = g.get("tab", "all") if g.get("tab") in tabs else "all"
    enquiries = services.filter_queue(visible.filter(tabs[tab][1]), g)
    for problem in services.queue_filter_problems(g).values():  # said, not silent
        messages.warning(request, f"Filter ignored: {problem}")
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
            "status": _options(list(STATUS_LABELS.items()), g.get("status", "")),
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
@require_safe
def enquiry_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _detail(request, _visible(request, reference))


def _changes(old: Any, new: Any) -> list[tuple[str, str, str]]:
    """An audit event's before and after, one readable line per field."""
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}

    def text(values: dict[str, Any], key: str) -> str:
        value = values.get(key)
        if key not in values:
            return ""
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "none"
        return "none" if value in (None, "") else str(value)

    keys = dict.fromkeys([*old, *new])
    return [
        (
            k.replace("_", " ") if k in new else f"previously {k.replace('_', ' ')}",
            text(old, k),
            text(new, k),
        )
        for k in keys
    ]


def _chosen_labels(triage: Triage | None) -> tuple[str, list[str]]:
    """Staff labels once confirmed (even an empty list), else the model's."""
    if triage is None:
        return "", []
    if triage.labels_confirmed_at:
        return triage.final_product_type, list(triage.final_process_types)
    return triage.product_type, list(triage.process_types)


def _detail(
    request: HttpRequest,
    enquiry: Enquiry,
    *,
    labels_form: LabelsForm | None = None,
    reply_form: ReplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The enquiry page; a refused form is passed in bound, so nothing typed is lost."""
    triage: Triage | None = getattr(enquiry, "triage", None)
    found = CaseStudy.objects.matches_for(f"{enquiry.title}\n{enquiry.description}")
    product, chosen = _chosen_labels(triage)
    context = {
        "enquiry": enquiry,
        "status_label": STATUS_LABELS.get(enquiry.status, enquiry.status),
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
        "events": [
            (event, _changes(event.old, event.new))
            for event in enquiry.events.select_related("actor")
        ],
        "attachments": enquiry.attachments.all(),
        "labels_form": labels_form
        or LabelsForm(initial={"product_type": product, "process_types": chosen}),
        "reply_form": reply_form or ReplyForm(auto_id="reply-%s"),
        "can_reply": enquiry.status in services.OPEN_STATES,
        "chosen_studies": request.POST.getlist("case_studies"),
        "chosen_canned": request.POST.get("canned", ""),
        "teams": Team.objects.all(),
        "routed": set(enquiry.routings.values_list("team_id", flat=True)),
        "staff": User.objects.filter(is_staff=True, is_active=True).order_by(
            "username"
        ),
        "moves": [
            (s, STATUS_LABELS[s])
            for s in sorted(services.TRANSITIONS.get(enquiry.status, ()))
        ],
        "canned": CannedResponse.objects.all(),
        "similar": services.similar_enquiries(
            enquiry=enquiry, visible=Enquiry.objects.visible_to(request.user)
        ),
        "can_triage": request.user.has_perm(TRIAGE),
    }
    return render(request, "triage/enquiry.html", context, status=status)


@staff_required("enquiries.view_enquiry")
@require_safe
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


def _typed(request: HttpRequest, name: str) -> str:
    """Text as typed: browsers send each line break as CRLF (two characters) but
    count it as one against a maxlength, so limits are checked on LF."""
    return request.POST.get(name, "").replace("\r\n", "\n")


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
    enquiry = _visible(request, reference)  # 404 first for other teams' work
    form = LabelsForm(request.POST)
    if not form.is_valid():  # shown again as ticked, with the errors
        return _detail(request, enquiry, labels_form=form, status=400)
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
    teams = _chosen_teams(request)
    return _act(
        request,
        reference,
        lambda e, a: services.route_enquiry(enquiry=e, actor=a, teams=teams),
        "Routed.",
    )


@staff_required(TRIAGE)
@require_POST
def assign(request: HttpRequest, reference: str) -> HttpResponse:
    _visible(request, reference)  # 404 first for other teams' work
    if "assignee" not in request.POST:
        messages.error(request, "Choose who to assign it to, or Unassigned")
        return redirect("triage:enquiry", reference=reference)
    raw = request.POST["assignee"]
    assignee = _chosen_staff(raw)
    if raw and assignee is None:  # only an explicit empty choice unassigns
        messages.error(request, _no_such_staff(raw))
        return redirect("triage:enquiry", reference=reference)
    return _act(
        request,
        reference,
        lambda e, a: services.assign_enquiry(enquiry=e, actor=a, assignee=assignee),
        f"Assigned to {assignee.username}." if assignee else "Unassigned.",
    )


def _chosen_staff(raw: str) -> User | None:
    """The staff member a form's assignee value names, if there is one."""
    pk = services.parse_id(raw)
    return User.objects.filter(pk=pk, is_staff=True).first() if pk else None


def _chosen_teams(request: HttpRequest) -> list[Team]:
    """The teams a form's ticked team boxes name (values that are no id ignored)."""
    ids = [pk for t in request.POST.getlist("teams") if (pk := services.parse_id(t))]
    return list(Team.objects.filter(pk__in=ids))


def _no_such_staff(raw: str) -> str:
    return (
        f"Nothing was assigned: there is no staff member with the id “{raw[:20]}”. "
        "Choose someone from the list"
    )


@staff_required(TRIAGE)
@require_POST
def move(request: HttpRequest, reference: str) -> HttpResponse:
    enquiry = _visible(request, reference)
    to = request.POST.get("to", "")
    if to not in STATUS_LABELS:
        messages.error(request, "Choose a status to move to")
    elif to == enquiry.status:
        messages.error(request, f"This enquiry is already {STATUS_LABELS[to].lower()}")
    elif to not in services.TRANSITIONS.get(enquiry.status, set()):
        # said here in staff words; change_status() still guards under a lock
        was, wanted = STATUS_LABELS[enquiry.status], STATUS_LABELS[to]
        messages.error(
            request,
            f"An enquiry that is {was.lower()} cannot move to {wanted.lower()}",
        )
    else:
        return _act(
            request,
            reference,
            lambda e, a: services.change_status(enquiry=e, actor=a, to=to),
            f"Status changed to {STATUS_LABELS[to].lower()}.",
        )
    return redirect("triage:enquiry", reference=reference)


@staff_required(TRIAGE)
@require_POST
def note(request: HttpRequest, reference: str) -> HttpResponse:
    text = _typed(request, "note")
    return _act(
        request,
        reference,
        lambda e, a: services.add_note(enquiry=e, actor=a, text=text),
        "Note added.",
    )


@staff_required(TRIAGE)
@require_POST
def reply(request: HttpRequest, reference: str) -> HttpResponse:
    enquiry = _visible(request, reference)
    body = _typed(request, "body")
    canned = request.POST.get("canned", "")
    slugs = request.POST.getlist("case_studies")
    actor = request.user if isinstance(request.user, User) else None
    try:
        if canned:
            pk = services.parse_id(canned)
            template = CannedResponse.objects.filter(pk=pk).first() if pk else None
            if template is None:
                raise services.ReplyError(
                    "That standard response no longer exists; choose another or none"
                )
            body = f"{template.body}\n\n{body}".strip()
        services.reply_to_enquiry(
            enquiry=enquiry, author=actor, body=body, case_study_slugs=slugs
        )
    except (services.ReplyError, services.TriageError) as exc:
        form = ReplyForm(request.POST, auto_id="reply-%s")
        form.is_valid()
        form.add_error("body", str(exc))  # the page comes back with the text kept
        return _detail(request, enquiry, reply_form=form, status=400)
    messages.success(request, "Reply sent.")
    return redirect("triage:enquiry", reference=reference)


@staff_required(TRIAGE)
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign, route or accept several enquiries at once (only those visible)."""
    ids = [i for i in map(services.parse_id, request.POST.getlist("ids")) if i]
    ids = ids[:PAGE_SIZE]
    enquiries = Enquiry.objects.visible_to(request.user).filter(pk__in=ids)
    actor = request.user if isinstance(request.user, User) else None
    action = request.POST.get("action", "")
    if action not in ("accept", "assign", "route"):
        messages.error(request, "Choose an action")
        return redirect("triage:queue")
    if not enquiries:
        messages.error(request, "Select at least one enquiry")
        return redirect("triage:queue")
    # checked once, before any row changes: a bad choice changes nothing
    raw = request.POST.get("assignee", "")
    assignee = _chosen_staff(raw)
    if action == "assign" and raw and assignee is None:
        messages.error(request, _no_such_staff(raw))
        return redirect("triage:queue")
    teams = _chosen_teams(request)
    if action == "route" and not teams:
        messages.error(request, "Choose at least one team")
        return redirect("triage:queue")
    done, reasons = 0, []
    for enquiry in enquiries:
        try:
            if action == "accept":
                services.confirm_labels(enquiry=enquiry, actor=actor)
            elif action == "assign":
                services.assign_enquiry(enquiry=enquiry, actor=actor, assignee=assignee)
            else:
                services.route_enquiry(enquiry=enquiry, actor=actor, teams=teams)
            done += 1
        except services.TriageError as exc:
            reasons.append(str(exc))
    updated = f"{_enquiries(done)} updated." if done else "No enquiries updated."
    if reasons:
        why = ". ".join(dict.fromkeys(reasons))  # each reason once, in order
        messages.error(
            request, f"{updated} {len(reasons)} could not be updated: {why}."
        )
    else:
        messages.success(request, updated)
    return redirect("triage:queue")


def _enquiries(n: int) -> str:
    return f"{n} enquiry" if n == 1 else f"{n} enquiries"


@staff_required("triage.change_classifierversion")
@require_http_methods(["GET", "HEAD", "POST"])
def model_quality(request: HttpRequest) -> HttpResponse:
    """Per class: precision against staff labels, share auto-accepted, threshold."""
    version = ClassifierVersion.objects.active()
    overrides = version.review_overrides if version else {}
    form = ThresholdsForm(
        initial={ThresholdsForm.field_name(c): v for c, v in overrides.items()}
    )
    if request.method == "POST" and version is not None:
        if request.POST.get("retrain"):
            from .tasks import retrain_classifier

            retrain_classifier.delay()
            messages.success(
                request,
                "Retraining started; a better model is activated when it finishes.",
            )
            return redirect("triage:model")
        form = ThresholdsForm(request.POST)
        if form.is_valid():  # all or nothing: one bad value saves none
            version.review_overrides = form.overrides()
            version.save(update_fields=["review_overrides"])
            messages.success(request, "Thresholds saved.")
            return redirect("triage:model")
    rows = services.model_quality_rows(version)
    for row in rows:
        row["field"] = form[ThresholdsForm.field_name(str(row["code"]))]
    context = {
        "version": version,
        "form": form,
        "rows": rows,
        "versions": ClassifierVersion.objects.all()[:20],
    }
    return render(
        request, "triage/model.html", context, status=400 if form.errors else 200
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: database, broker, classification backlog, model version."""
    report = services.health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@staff_required("enquiries.erase_personal_data")
@require_http_methods(["GET", "HEAD", "POST"])
def data_requests(request: HttpRequest) -> HttpResponse:
    """Subject access (export) and erasure requests for one email address."""
    form = DataRequestForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        status = 400 if form.errors else 200
        return render(
            request, "triage/data_requests.html", {"form": form}, status=status
        )
    email = form.cleaned_data["email"]
    if form.cleaned_data["action"] == "export":
        response = JsonResponse(
            privacy.export_enquirer(email=email), json_dumps_params={"indent": 2}
        )
        response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
        return response
    actor = request.user if isinstance(request.user, User) else None
    count = privacy.erase_enquirer(
        email=email, actor=actor, reason="erasure requested by the data subject"
    )
    if count:
        messages.success(request, f"Personal data erased from {_enquiries(count)}.")
    else:
        messages.warning(
            request, f"No enquiry has the email address {email}: nothing was erased."
        )
    return redirect("triage:data_requests")


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


def _window(request: HttpRequest) -> tuple[insight.Window, list[str]]:
    """The period and team asked for, and what could not be used (said, not
    silently replaced by the defaults)."""
    today = timezone.localdate()
    problems: list[str] = []

    def day(name: str) -> date | None:
        raw = request.GET.get(name, "")
        try:
            return date.fromisoformat(raw) if raw else None
        except (ValueError, OverflowError):
            problems.append(f"“{raw[:20]}” is not a date like 2026-03-31 ({name})")
            return None

    floor = date(2000, 1, 1)  # nothing older exists; keeps date arithmetic in range
    end = max(min(day("to") or today, today), floor)
    start = max(min(day("from") or end - timedelta(weeks=12), today), floor)
    raw_team = request.GET.get("team", "")
    team = services.parse_id(raw_team)
    if raw_team and (team is None or not Team.objects.filter(pk=team).exists()):
        problems.append(f"there is no team with the id “{raw_team[:20]}”")
        team = None
    return insight.Window(min(start, end), max(start, end), team), problems


@staff_required("enquiries.view_all_enquiries")
@require_safe
def insight_page(request: HttpRequest) -> HttpResponse:
    """Service, model and horizon-scanning dashboards, with a CSV of every table."""
    section = request.GET.get("section", "service")
    section = section if section in INSIGHT_TABLES else "service"
    window, problems = _window(request)
    for problem in problems:
        messages.warning(request, f"Filter ignored: {problem}")
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
