"""`make chaos`: a submission burst while workers are killed and Redis and
PostgreSQL restart; then proof that every accepted enquiry is stored and classified
exactly once. Needs REDIS_URL and a PostgreSQL DATABASE_URL on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection
from django.db.models import Count

from enquiries.models import Enquiry, Event
from enquiries.services import submit_enquiry
from triage import tasks


def _run(*cmd: str) -> None:
    subprocess.run(list(cmd), capture_output=True, timeout=60, check=False)


class _Burst:
    """Clients submitting in parallel; each retries until the service accepts."""

    def __init__(self, enquiries: int, interval: float) -> None:
        self.total = enquiries
        self.interval = interval  # seconds between one client's submissions
        self.accepted: list[int] = []
        self.retries = 0
        self.started = 0
        self.lock = threading.Lock()

    def count(self) -> int:
        return len(self.accepted)

    def _next(self) -> int | None:
        with self.lock:
            if self.started == self.total:
                return None
            self.started += 1
            return self.started

    def client(self) -> None:
        due = time.monotonic()
        try:
            while (i := self._next()) is not None:
                due += self.interval
                time.sleep(max(0.0, due - time.monotonic()))
                while True:
                    try:
                        enquiry, _ = submit_enquiry(
                            organisation_name="Chaos Ltd", organisation_type="sme",
                            contact_name="Chaos", email=f"chaos{i}@example.com",
                            development_stage="idea",
                            title=f"Chaos enquiry {i}: a wearable ECG patch",
                            description="A wearable patch that records the heart rhythm "
                            "for a week and flags atrial fibrillation to a cardiologist.",
                            notify=False,
                        )  # fmt: skip
                    except DatabaseError:
                        with self.lock:
                            self.retries += 1
                        connection.close()
                        time.sleep(0.2)
                        continue
                    with self.lock:
                        self.accepted.append(enquiry.pk)
                    break
        finally:
            connection.close()


class Command(BaseCommand):
    help = "Chaos run: kill workers, restart Redis and PostgreSQL during a burst."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enquiries", type=int, default=600)
        parser.add_argument(
            "--rate", type=float, default=40, help="submissions/s offered by 4 clients"
        )
        parser.add_argument(
            "--sweep-after",
            type=int,
            default=10,
            help="seconds before a pending enquiry is re-enqueued (workers and sweeper)",
        )

    def handle(
        self, *args: Any, enquiries: int, rate: float, sweep_after: int, **o: Any
    ) -> None:
        if not settings.REDIS_URL or connection.vendor != "postgresql":
            raise CommandError("chaos needs REDIS_URL and a PostgreSQL DATABASE_URL")
        # Lost messages are found by the sweeper; a short age keeps the run short
        # and makes redelivery (and so the exactly-once check) more likely.
        settings.CLASSIFY_SWEEP_AFTER_SECONDS = sweep_after
        env = {**os.environ, "CLASSIFY_SWEEP_AFTER_SECONDS": str(sweep_after)}
        workers = [self._worker(env) for _ in range(2)]
        faults: dict[int, tuple[str, Callable[[], None]]] = {
            enquiries // 5: (
                "SIGKILL a worker child",
                lambda: self._kill_child(workers[0]),
            ),
            2 * enquiries // 5: ("restart Redis", self._restart_redis),
            3 * enquiries // 5: ("restart PostgreSQL", self._restart_postgres),
            4 * enquiries // 5: ("SIGKILL a whole worker", lambda: workers[1].kill()),
        }
        clients = 4
        burst = _Burst(enquiries, interval=clients / rate)
        threads = [
            threading.Thread(target=burst.client, daemon=True) for _ in range(clients)
        ]
        started = time.monotonic()
        try:
            for t in threads:
                t.start()
            for threshold, (name, action) in sorted(faults.items()):
                while burst.count() < threshold and any(t.is_alive() for t in threads):
                    time.sleep(0.01)
                self.stdout.write(f"  after {burst.count()} accepted: {name}")
                action()  # the clients go on submitting meanwhile
            for t in threads:
                t.join(timeout=300)
            if any(t.is_alive() for t in threads):
                raise CommandError("a client is stuck: submissions did not finish")
            accepted, retries = burst.accepted, burst.retries
            workers.append(self._worker(env))  # replace the killed one
            deadline = time.monotonic() + 180
            pending = len(accepted)
            while time.monotonic() < deadline:
                try:
                    tasks.sweep()
                    pending = Enquiry.objects.filter(
                        pk__in=accepted, classification_state="pending"
                    ).count()
                except DatabaseError:
                    connection.close()
                if pending == 0:
                    break
                time.sleep(2)
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                try:
                    w.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    w.kill()
        self._report(accepted, retries, time.monotonic() - started)

    def _report(self, accepted: list[int], retries: int, seconds: float) -> None:
        rows = Enquiry.objects.filter(pk__in=accepted)
        states = dict(rows.values_list("classification_state").annotate(n=Count("id")))
        per_enquiry = (
            Event.objects.filter(enquiry__in=accepted, action="classified")
            .values("enquiry")
            .annotate(n=Count("id"))
        )
        twice = sum(1 for r in per_enquiry if r["n"] > 1)
        once = sum(1 for r in per_enquiry if r["n"] == 1)
        ok = (
            rows.count() == len(accepted)
            and states.get("pending", 0) == 0
            and twice == 0
            and once == states.get("classified", 0)  # each has its one event
        )
        swept = rows.filter(classify_attempts__gt=0).count()
        self.stdout.write(
            f"accepted {len(accepted)} (client retries {retries}), stored {rows.count()}, "
            f"re-enqueued by the sweeper {swept}, "
            f"states {states}, classified once {once}, more than once {twice}, "
            f"{seconds:.0f} s: {'PASS' if ok else 'FAIL'}"
        )
        if not ok:
            sys.exit(1)

    def _worker(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "2",
             "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"chaos-{time.monotonic_ns()}@%h"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _kill_child(self, worker: subprocess.Popen[bytes]) -> None:
        out = subprocess.run(
            ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
        )
        for pid in out.stdout.split()[:1]:
            os.kill(int(pid), signal.SIGKILL)

    def _restart_redis(self) -> None:
        port = settings.REDIS_URL.rsplit(":", 1)[-1].split("/")[0]
        _run("redis-cli", "-p", port, "shutdown", "nosave")
        time.sleep(1)
        for folder in ("/var/lib/redis", "/var/log/redis"):
            os.makedirs(folder, exist_ok=True)
        _run("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
             "--port", port, "--save", "", "--appendonly", "no",
             "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log")  # fmt: skip
        time.sleep(1)

    def _restart_postgres(self) -> None:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart")
        connection.close()
