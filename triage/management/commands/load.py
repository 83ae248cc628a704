"""`make load`: a bounded load run against gunicorn with PostgreSQL, Redis and two
Celery workers; then proof that every accepted submission is stored and classified.

Locust (headless) offers a fixed rate of API submissions for a fixed time. The
service runs as in production but for three things the run needs: one client IP may
submit without limit (the rate limit would refuse it), email goes nowhere, and the
workers run at idle CPU priority (SCHED_IDLE): on these two shared cores they use
what the web tier leaves and catch up after the burst, as separate machines would not
need to.
Needs REDIS_URL and a PostgreSQL DATABASE_URL; writes a Markdown report."""

from __future__ import annotations

import json
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
        parser.add_argument("--web-workers", type=int, default=8)
        parser.add_argument("--web-threads", type=int, default=1)
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
             "-w", str(o["web_workers"]), "--threads", str(o["web_threads"]),
             "--backlog", "2048"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        worker = ["chrt", "--idle", "0", str(bin_dir / "celery"), "-A", "config",
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
                stats_file = Path(tmp) / "stats.json"  # locust adds .json itself
                self.stdout.write(
                    f"locust: {users} users x 10/s for {o['seconds']} s against {url}"
                )
                subprocess.run(
                    [str(bin_dir / "locust"), "-f", str(LOCUSTFILE), "--headless",
                     "-u", str(users), "-r", str(users), "-t", f"{o['seconds']}s",
                     "--host", url, "--json-file", str(stats_file.with_suffix("")),
                     "--only-summary",
                     "--loglevel", "WARNING", "--stop-timeout", "10"],
                    cwd=ROOT, env=env, check=False,
                )  # fmt: skip
                stats = self._stats(stats_file)
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

    def _stats(self, path: Path) -> dict[str, float]:
        """Counts, rate and latency percentiles from locust's final JSON stats."""
        text = path.read_text() if path.exists() else ""
        if not text.strip():
            raise CommandError("locust wrote no statistics")
        entries = json.loads(text)
        rows = [e for e in entries if e["name"] == "POST /api/v1/enquiries/"]
        if not rows:
            raise CommandError("locust recorded no submissions")
        row = rows[0]
        times = sorted((float(ms), n) for ms, n in row["response_times"].items())
        total = sum(n for _, n in times)

        def percentile(p: float) -> float:
            seen = 0
            for ms, n in times:
                seen += n
                if seen >= p * total:
                    return ms
            return times[-1][0]

        span = row["last_request_timestamp"] - row["start_time"]
        return {
            "requests": row["num_requests"],
            "failures": row["num_failures"],
            "rate": row["num_requests"] / span if span > 0 else 0.0,
            "median": percentile(0.50),
            "p95": percentile(0.95),
            "p99": percentile(0.99),
            "max": row["max_response_time"],
        }

    def _report(
        self,
        run: str,
        rows: Any,
        stats: dict[str, float],
        drain: float,
        o: dict[str, Any],
        users: int,
    ) -> None:
        sent = int(stats["requests"])
        failed = int(stats["failures"])
        accepted = sent - failed
        stored = rows.count()
        states = dict(rows.values_list("classification_state").annotate(n=Count("id")))
        span = rows.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
        seconds = (span["last"] - span["first"]).total_seconds() if stored > 1 else 0.0
        events = (
            Event.objects.filter(enquiry__in=rows, action="classified")
            .values("enquiry")
            .annotate(n=Count("id"))
        )
        twice = sum(1 for e in events if e["n"] > 1)
        classified = states.get("classified", 0)
        rate = stats["rate"]
        ok = (
            failed == 0
            and stored == accepted
            and classified == stored
            and twice == 0
            and rate >= 200
        )
        cpu = os.cpu_count()
        lines = [
            "# Load test (`make load`)",
            "",
            "Written by `manage.py load`; decisions in docs/decisions/0009.",
            "",
            f"Load run `{run}`: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"{platform.node()} ({cpu} cores, Python {platform.python_version()}).",
            "",
            f"Offered: {users} locust users x 10 submissions/s for {o['seconds']} s "
            f"through `POST /api/v1/enquiries/`, against gunicorn "
            f"({o['web_workers']} sync workers) on 127.0.0.1 with PostgreSQL, Redis "
            "and two Celery workers (concurrency 1 each, at idle CPU priority).",
            "",
            "| measure | result | target |",
            "| --- | --- | --- |",
            f"| submissions accepted (201) | {accepted:,} | |",
            f"| failed requests | {failed} | 0 |",
            f"| throughput over the run | {rate:.1f}/s | >= 200/s |",
            f"| median latency | {stats['median']:.0f} ms | |",
            f"| p95 latency | {stats['p95']:.0f} ms | reported |",
            f"| p99 latency | {stats['p99']:.0f} ms | |",
            f"| max latency | {stats['max']:.0f} ms | |",
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
