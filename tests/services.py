"""Real services for tests: a Celery worker process, Redis control, waiting helpers.

Used by the worker tests and the browser journey. They run wherever DATABASE_URL
points at PostgreSQL and REDIS_URL at Redis; .ci/run sets both (and
REQUIRE_SERVICES=1, which turns a skip into a failure).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
from django.conf import settings

from enquiries.models import Enquiry

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def need_services() -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    missing = []
    if not settings.REDIS_URL:
        missing.append("REDIS_URL is not set")
    if "postgresql" not in engine:
        missing.append("DATABASE_URL is not PostgreSQL")
    if missing:
        reason = "; ".join(missing) + " (run .ci/run for the service-backed tests)"
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)


def wait_for(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def restart_redis(*, stay_down: bool = False) -> None:
    """Stop the Redis server (nothing is persisted) and start it again."""
    url = urlparse(settings.REDIS_URL)
    port = str(url.port or 6379)
    subprocess.run(
        ["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True, timeout=10
    )
    wait_for(
        lambda: (
            subprocess.run(
                ["redis-cli", "-p", port, "ping"], capture_output=True
            ).returncode
            != 0
        ),
        10,
        "redis to stop",
    )
    if not stay_down:
        start_redis()


def start_redis() -> None:
    port = str(urlparse(settings.REDIS_URL).port or 6379)
    Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", port,
         "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"],
        check=True, timeout=10,
    )  # fmt: skip
    wait_for(
        lambda: (
            subprocess.run(
                ["redis-cli", "-p", port, "ping"], capture_output=True
            ).returncode
            == 0
        ),
        10,
        "redis to start",
    )


class Worker:
    """A Celery worker in its own process, pointed at the test database."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Worker:
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1",
               "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat",
               "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h"]  # fmt: skip
        self.lines = []
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        wait_for(
            lambda: any("ready." in line for line in self.lines),
            60,
            "the worker to be ready",
        )
        return self

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.lines.append(line)

    def child_pids(self) -> list[int]:
        assert self.proc
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True
        )
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def classified(enquiry_id: int) -> Callable[[], bool]:
    return lambda: Enquiry.objects.filter(
        pk=enquiry_id, classification_state=Enquiry.ClassificationState.CLASSIFIED
    ).exists()
