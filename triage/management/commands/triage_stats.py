from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count

from enquiries.models import Enquiry
from triage import services
from triage.models import Triage


class Command(BaseCommand):
    help = "Print a JSON summary: backlog, states, model share auto-accepted, health."

    def handle(self, *args: Any, **options: Any) -> None:
        triages = Triage.objects.exclude(product_type="")
        total = triages.count()
        stats = {
            "enquiries": Enquiry.objects.count(),
            "by_status": dict(
                Enquiry.objects.values_list("status").annotate(n=Count("id"))
            ),
            "by_classification_state": dict(
                Enquiry.objects.values_list("classification_state").annotate(n=Count("id"))
            ),
            "overdue": Enquiry.objects.overdue().count(),
            "auto_accepted_share": round(
                triages.filter(needs_review=False).count() / total, 4
            ) if total else None,
            "by_predicted_product_type": dict(
                triages.values_list("product_type").annotate(n=Count("id"))
            ),
            "health": services.health(),
        }  # fmt: skip
        self.stdout.write(json.dumps(stats, indent=2, default=str))
