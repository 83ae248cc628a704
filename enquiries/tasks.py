"""Celery tasks: thin adapters over services."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from . import privacy


@shared_task(acks_late=True)
def purge_expired() -> dict[str, int]:
    return asdict(privacy.purge_expired())
