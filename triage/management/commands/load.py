"""`make load`: a bounded load run against gunicorn with PostgreSQL, Redis and two
Celery workers; then proof that every accepted submission is stored and classified.

Locust (headless) offers a fixed rate of API submissions for a fixed time. The
service runs as in production but for three things the run needs: one client IP may
submit without limit (the rate limit would refuse it), email goes nowhere, and the
workers run at a lower CPU priority than the web processes, as a web tier should.
Needs REDIS_URL and a PostgreSQL DATABASE_URL; writes a Markdown report."""

from __future__ import annotations

import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Count, Max, Min

from enquiries.models import Enquiry, Event

ROOT = Path(settings.BASE_DIR)
LOCUSTFILE = ROOT / "tests" / "load" / "locustfile.py"


class Command(BaseCommand):
    help = "Load run: locust against gunicorn + PostgreSQL + Redis + two workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rate", type=float, default=220, help="submissions/s")
        parser.add_argument("--seconds", type=int, default=60)
        parser.add_argument("--web-workers", type=int, default=4)
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--report", default="", help="write Markdown here")

    def handle(self, *args: Any, **o: Any) -> None:
        if not settings.REDIS_URL or connection.vendor != "postgresql":
            raise CommandError("load needs REDIS_URL and a PostgreSQL DATABASE_URL")
        run = f"Load {uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "SUBMIT_RATE_LIMIT_PER_HOUR": "100000000",  # one client IP, by design
            "EMAIL_URL": "dummymail://",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{o['port']}",
            "LOG_LEVEL": "WARNING",
            "LOAD_RUN": run,
            "LOAD_RATE_PER_USER": "10",
        }
        bin_dir = Path(sys.executable).parent
        web = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{o['port']}",
             "-w", str(o["web_workers"]), "--backlog", "2048"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        worker = ["nice", "-n", "10", str(bin_dir / "celery"), "-A", "config",
                  "worker", "-c", "1", "-l", "warning", "--without-gossip",
                  "--without-mingle"]  # fmt: skip
        workers = [
            subprocess.Popen([*worker, "-n", f"load{i}@%h"], cwd=ROOT, env=env)
            for i in range(2)
        ]
        url = f"http://127.0.0.1:{o['port']}"
        users = max(1, round(o["rate"] / 10))
        try:
            self._wait_for(url + "/healthz", 60)
            with tempfile.TemporaryDirectory() as tmp:
                prefix = str(Path(tmp) / "load")
                self.stdout.write(
                    f"locust: {users} users x 10/s for {o['seconds']} s against {url}"
                )
                subprocess.run(
                    [str(bin_dir / "locust"), "-f", str(LOCUSTFILE), "--headless",
                     "-u", str(users), "-r", str(users), "-t", f"{o['seconds']}s",
                     "--host", url, "--csv", prefix, "--only-summary",
                     "--loglevel", "WARNING", "--stop-timeout", "10"],
                    cwd=ROOT, env=env, check=False,
                )  # fmt: skip
                stats = self._stats(prefix + "_stats.csv")
            drain_started = time.monotonic()
            rows = Enquiry.objects.filter(organisation_name=f"{run} Ltd")
            deadline = time.monotonic() + 900
            while (
                rows.filter(classification_state="pending").exists()
                and time.monotonic() < deadline
            ):
                time.sleep(1)
            drain = time.monotonic() - drain_started
        finally:
            for p in [web, *workers]:
                p.terminate()
            for p in [web, *workers]:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        self._report(run, rows, stats, drain, o, users)

    def _wait_for(self, url: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise CommandError(f"{url} did not answer in {seconds} s")

    def _stats(self, path: str) -> dict[str, str]:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["Name"] == "POST /api/v1/enquiries/":
                    return row
        raise CommandError("locust recorded no submissions")

    def _report(
        self,
        run: str,
        rows: Any,
        stats: dict[str, str],
        drain: float,
        o: dict[str, Any],
        users: int,
    ) -> None:
        sent = int(stats["Request Count"])
        failed = int(stats["Failure Count"])
        accepted = sent - failed
        stored = rows.count()
        states = dict(rows.values_list("classification_state").annotate(n=Count("id")))
        span = rows.aggregate(first=Min("created_at"), last=Max("created_at"))
        seconds = (span["last"] - span["first"]).total_seconds() if stored > 1 else 0.0
        events = (
            Event.objects.filter(enquiry__in=rows, action="classified")
            .values("enquiry")
            .annotate(n=Count("id"))
        )
        twice = sum(1 for e in events if e["n"] > 1)
        classified = states.get("classified", 0)
        rate = float(stats["Requests/s"])
        ok = (
            failed == 0
            and stored == accepted
            and classified == stored
            and twice == 0
            and rate >= 200
        )
        cpu = os.cpu_count()
        lines = [
            f"Load run `{run}`: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"{platform.node()} ({cpu} cores, Python {platform.python_version()}).",
            "",
            f"Offered: {users} locust users x 10 submissions/s for {o['seconds']} s "
            f"through `POST /api/v1/enquiries/`, against gunicorn "
            f"({o['web_workers']} sync workers) on 127.0.0.1 with PostgreSQL, Redis "
            "and two Celery workers (concurrency 1 each, nice 10).",
            "",
            "| measure | result | target |",
            "| --- | --- | --- |",
            f"| submissions accepted (201) | {accepted:,} | |",
            f"| failed requests | {failed} | 0 |",
            f"| throughput over the run | {rate:.1f}/s | >= 200/s |",
            f"| median latency | {stats['Median Response Time']} ms | |",
            f"| p95 latency | {stats['95%']} ms | reported |",
            f"| p99 latency | {stats['99%']} ms | |",
            f"| max latency | {float(stats['Max Response Time']):.0f} ms | |",
            f"| stored in PostgreSQL | {stored:,} (first to last {seconds:.0f} s) "
            "| = accepted |",
            f"| classified | {classified:,} | = stored |",
            f"| classified more than once | {twice} | 0 |",
            f"| time to classify the backlog after the run | {drain:.0f} s | |",
            "",
            f"Result: **{'PASS' if ok else 'FAIL'}**.",
        ]
        text = "\n".join(lines) + "\n"
        self.stdout.write(text)
        if o["report"]:
            Path(o["report"]).write_text(text)
        if not ok:
            raise CommandError("the load run did not meet its targets")
