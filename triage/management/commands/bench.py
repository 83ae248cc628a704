"""`make bench`: every speed target measured on this machine, printed as one table."""

from __future__ import annotations

import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from casestudies import matching
from enquiries import taxonomy
from enquiries.models import Enquiry
from triage import classifier, services

Row = tuple[str, str, float | None, float | None, str, bool | None]


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def shuffled_variant(text: str, rng: random.Random) -> str:
    sentences = [s for s in text.replace("\n", " ").split(". ") if s]
    rng.shuffle(sentences)
    return ". ".join(sentences)


class Command(BaseCommand):
    help = "Measure the speed targets and print one table (median, p95, pass/fail)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quick", action="store_true", help="fewer repeats")
        parser.add_argument(
            "--skip-training", action="store_true", help="skip the 10,000-row fit"
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="seed 100,000 enquiries; time the queue",
        )
        parser.add_argument("--queue-only", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        quick = options["quick"]
        rng = random.Random(7)
        rows = services.read_corpus()
        examples = [
            classifier.Example(str(r["title"]), str(r["description"])) for r in rows
        ]
        model = services.active_model()
        results: list[Row] = []
        if options["queue_only"]:
            self._print(self._queue(rows, rng))
            return

        results += self._classify(model, examples, quick)
        results += self._matching(rows, rng, quick)
        if not options["skip_training"]:
            results += self._training(rows, rng)
        results += self._round_trip(quick)
        if options["queue"]:
            results += self._queue(rows, rng)
        self._print(results)

    def _classify(
        self, model: classifier.Model, examples: list[classifier.Example], quick: bool
    ) -> list[Row]:
        sample = examples[:: 3 if quick else 1][:600]
        for e in sample[:50]:
            classifier.predict(model, e)  # warm caches as a running worker would be
        single = [timed(partial(classifier.predict, model, e), 1)[0] for e in sample]
        batch = (examples * 3)[:5000]
        started = time.perf_counter()
        classifier.predict_many(model, batch)
        rate = len(batch) / (time.perf_counter() - started)
        return [
            (
                "classify one enquiry in-process",
                "<= 5 ms median",
                statistics.median(single),
                p95(single),
                "ms",
                statistics.median(single) <= 5,
            ),
            (
                "batch classification",
                ">= 2,000 enquiries/s",
                rate,
                None,
                "/s",
                rate >= 2000,
            ),
        ]

    def _matching(
        self, rows: list[dict[str, object]], rng: random.Random, quick: bool
    ) -> list[Row]:
        texts = [f"{r['title']}\n{r['description']}" for r in rows]
        docs = []
        for i in range(5000):  # synthetic studies: three enquiries joined and shuffled
            parts = rng.sample(texts, 3)
            docs.append((f"cs-{i}", shuffled_variant(" ".join(parts), rng)))
        index = matching.build(docs)
        queries = texts[:: 6 if quick else 2][:300]
        for q in queries[:20]:
            matching.search(index, q)
        lat = [timed(partial(matching.search, index, q), 1)[0] for q in queries]
        median = statistics.median(lat)
        return [
            (
                "case-study suggestions, 5,000 published",
                "<= 20 ms median",
                median,
                p95(lat),
                "ms",
                median <= 20,
            )
        ]

    def _training(self, rows: list[dict[str, object]], rng: random.Random) -> list[Row]:
        picked = [rng.choice(rows) for _ in range(10_000)]
        examples = [
            classifier.Example(
                str(r["title"]), shuffled_variant(str(r["description"]), rng)
            )
            for r in picked
        ]
        started = time.perf_counter()
        classifier.train(
            examples,
            [str(r["product_type"]) for r in picked],
            [list(r["process_types"]) for r in picked],  # type: ignore[call-overload]
            product_codes=taxonomy.PRODUCT_TYPES,
            process_codes=taxonomy.PROCESS_TYPES,
            version="bench",
        )
        seconds = time.perf_counter() - started
        return [
            (
                "train on 10,000 enquiries (with CV)",
                "<= 60 s",
                seconds,
                None,
                "s",
                seconds <= 60,
            )
        ]

    def _round_trip(self, quick: bool) -> list[Row]:
        name = "submit -> stored classification via Redis + worker"
        if not settings.REDIS_URL:
            return [(name, "<= 50 ms median, <= 200 ms p95", None, None, "ms", None)]
        from enquiries.services import submit_enquiry

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "2",
             "-l", "warning", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        lat: list[float] = []
        try:
            time.sleep(6)  # worker start and model load, not part of the measurement
            for i in range(40 if quick else 200):
                started = time.perf_counter()
                enquiry, _ = submit_enquiry(
                    organisation_name="Bench Ltd",
                    organisation_type="sme",
                    contact_name="Bench",
                    email=f"bench{i}@example.com",
                    development_stage="idea",
                    title="Benchmark enquiry about a wearable monitor",
                    description="A wrist-worn monitor that records heart rhythm and "
                    "alerts the wearer to possible atrial fibrillation.",
                    notify=False,
                )
                deadline = started + 10
                while time.perf_counter() < deadline:
                    if Enquiry.objects.filter(
                        pk=enquiry.pk, classification_state="classified"
                    ).exists():
                        break
                    time.sleep(0.001)
                lat.append((time.perf_counter() - started) * 1000)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        median = statistics.median(lat[5:])
        ok = median <= 50 and p95(lat[5:]) <= 200
        return [
            (name, "<= 50 ms median, <= 200 ms p95", median, p95(lat[5:]), "ms", ok)
        ]

    @override_settings(STAFF_TWO_FACTOR=False)  # the bench signs in without a phone
    def _queue(self, rows: list[dict[str, object]], rng: random.Random) -> list[Row]:
        """Staff queue pages over 100,000 enquiries (in-process: view + template)."""
        from django.contrib.auth.models import Group, User
        from django.core.cache import cache
        from django.test import Client

        from triage.models import Team, Triage

        target = 100_000
        have = Enquiry.objects.count()
        now = timezone.now()
        for start in range(have, target, 5000):
            batch = []
            for i in range(start, min(target, start + 5000)):
                row = rng.choice(rows)
                batch.append(
                    Enquiry(
                        reference=f"BEN-{i:07d}", status_token_hash=f"bench{i:059d}",
                        status_token_expires_at=now, organisation_name="Bench Ltd",
                        organisation_type=str(row["organisation_type"]),
                        contact_name="Bench", email=f"b{i}@example.com",
                        development_stage=str(row["development_stage"]),
                        title=str(row["title"])[:150], description=str(row["description"]),
                        consent_given_at=now, status=rng.choice(Enquiry.Status.values),
                        submitted_at=now - timedelta(minutes=i),
                        response_due=(now - timedelta(days=rng.randint(-30, 30))).date(),
                        classification_state="classified",
                    )
                )  # fmt: skip
            created = Enquiry.objects.bulk_create(batch)
            Triage.objects.bulk_create(
                Triage(
                    enquiry=e, product_type=str(rng.choice(rows)["product_type"]),
                    product_confidence=rng.random(), process_types=[],
                    needs_review=rng.random() < 0.3, model_version="bench",
                    classified_at=now,
                )
                for e in created
            )  # fmt: skip
        with connection.cursor() as db:
            db.execute("ANALYZE")  # fresh planner statistics after the bulk load
        user, _ = User.objects.get_or_create(
            username="bench-officer", defaults={"is_staff": True}
        )
        user.groups.add(Group.objects.get(name="Triage officer"))
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        team = Team.objects.first()
        deep = Enquiry.objects.order_by("-submitted_at", "-id").values_list(
            "submitted_at", "id"
        )[90_000]
        cursor = quote(f"{deep[0].isoformat()}|{deep[1]}")
        pages = {
            "queue page 1 (50 rows)": "/staff/",
            "queue page at row 90,000 (keyset)": f"/staff/?after={cursor}",
            "queue filtered: status + product + needs review": "/staff/?status=routed&product_type=medical-device&needs_review=yes",
            "queue search + filter + deep": f"/staff/?q=sterile+implant&status=new&after={cursor}",
            "queue filtered by team and overdue": f"/staff/?team={team.pk if team else 0}&overdue=yes",
        }  # fmt: skip
        results: list[Row] = []
        for name, url in pages.items():
            first = client.get(url)
            assert first.status_code == 200, (url, first.status_code)
            lat = timed(partial(client.get, url), 40)
            results.append(
                (
                    name,
                    "<= 50 ms p95",
                    statistics.median(lat),
                    p95(lat),
                    "ms",
                    p95(lat) <= 50,
                )
            )

        for section in ("service", "model", "horizon"):
            url = f"/staff/insight/?section={section}"
            first = client.get(url)
            assert first.status_code == 200, (url, first.status_code)
            lat = timed(partial(client.get, url), 10)
            results.append(
                (
                    f"dashboard: {section} (12 weeks of 100,000)",
                    "<= 300 ms",
                    statistics.median(lat),
                    p95(lat),
                    "ms",
                    p95(lat) <= 300,
                )
            )

        def cold() -> None:
            cache.clear()
            client.get("/staff/")

        lat = timed(cold, 10)
        results.append(
            (
                "queue page 1 with tab counts uncached",
                "(informative)",
                statistics.median(lat),
                p95(lat),
                "ms",
                None,
            )
        )
        return results

    def _print(self, results: list[Row]) -> None:
        w = self.stdout.write
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        w(
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
            f"cores, Python {platform.python_version()}, database {engine}, "
            f"broker {'redis' if settings.REDIS_URL else 'filesystem'}"
        )
        w(f"{'measure':52} {'target':32} {'median':>10} {'p95':>10}  result")
        for name, target, median, high, unit, ok in results:
            m = "n/a" if median is None else f"{median:,.1f} {unit}"
            h = "" if high is None else f"{high:,.1f} {unit}"
            verdict = "pass" if ok else "FAIL"
            if ok is None:
                verdict = "skipped (needs REDIS_URL)" if median is None else "-"
            w(f"{name:52} {target:32} {m:>10} {h:>10}  {verdict}")
