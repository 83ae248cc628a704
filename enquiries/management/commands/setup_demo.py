from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand

from casestudies import services as case_services
from casestudies.models import CaseStudy
from enquiries import services
from enquiries.models import Enquiry
from triage.models import CannedResponse

BASE = Path(settings.BASE_DIR)
DEMO_CASES = BASE / "casestudies" / "demo" / "case_studies.jsonl"
DEMO_ENQUIRIES = BASE / "enquiries" / "demo" / "enquiries.jsonl"
LOGIN_FILE = Path(settings.BASE_DIR) / "var" / "demo-login.txt"
CANNED = [
    (
        "Acknowledge and route",
        "Thank you for your enquiry. We have passed it to the specialist teams named "
        "below, who will reply together.",
    ),
    (
        "Need more information",
        "To answer your question we need a little more information about how the "
        "product works and what it is intended to do. Please reply with:",
    ),
    (
        "Out of scope",
        "Your enquiry is outside the remit of the innovation office. You may find the "
        "following sources of advice helpful:",
    ),
]


class Command(BaseCommand):
    help = (
        "Idempotent local set-up: taxonomy, demo case studies and enquiries into an "
        "empty database, a trained classifier, and a demo staff login."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        services.sync_taxonomy()
        if not CaseStudy.objects.exists():
            lines = DEMO_CASES.read_text(encoding="utf-8").splitlines()
            created, _ = case_services.import_case_studies(lines=lines, demo=True)
            self.stdout.write(f"Loaded {created} demo case studies.")
        call_command(
            "train_classifier", if_missing=True, verbosity=0, stdout=self.stdout
        )
        if not Enquiry.objects.exists():
            for line in DEMO_ENQUIRIES.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    services.submit_enquiry(**json.loads(line), notify=False)
            self.stdout.write(f"Submitted {Enquiry.objects.count()} demo enquiries.")
        if not CannedResponse.objects.exists():
            for title, body in CANNED:
                CannedResponse.objects.create(title=title, body=body)
        if not User.objects.exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser("officer", "officer@example.org", password)
            LOGIN_FILE.parent.mkdir(exist_ok=True)
            LOGIN_FILE.write_text(f"officer {password}\n")
            LOGIN_FILE.chmod(0o600)
            self.stdout.write(f"Created demo staff login; see {LOGIN_FILE}.")
