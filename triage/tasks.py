"""Celery tasks: thin adapters that take ids and call one service."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_process_init
from django.db import DatabaseError
from kombu.exceptions import OperationalError as BrokerError

from . import classifier, services

log = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=3,
)
def classify_enquiry(enquiry_id: int) -> None:
    services.classify_enquiry(enquiry_id=enquiry_id)


def enqueue_classification(enquiry_id: int) -> None:
    """Publish after commit; if the broker is down the sweeper will catch up."""
    try:
        classify_enquiry.delay(enquiry_id)
    except Exception:  # a dead broker must never fail the request
        log.warning("broker unavailable; enquiry %s left for the sweeper", enquiry_id)
        services.mark_enqueue_failed(enquiry_id=enquiry_id)


def sweep() -> dict[str, int]:
    """Re-enqueue stale pending enquiries; classify in-process if the broker is down."""
    retry, flagged = services.claim_stale_unclassified()
    in_process = 0
    for enquiry_id in retry:
        try:
            classify_enquiry.delay(enquiry_id)
        except BrokerError:
            services.classify_enquiry(enquiry_id=enquiry_id)
            in_process += 1
    return {
        "requeued": len(retry) - in_process,
        "in_process": in_process,
        "flagged": len(flagged),
    }


@shared_task(acks_late=True)
def sweep_unclassified() -> dict[str, int]:
    return sweep()


@worker_process_init.connect
def _warm_up(**_: Any) -> None:
    """Load the model in each worker process at start, not on the first task."""
    try:
        services.active_model()
    except (classifier.ModelUnavailable, DatabaseError) as exc:
        log.warning("no model loaded at worker start: %s", exc)


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def retrain_classifier() -> str:
    """Weekly (beat) or on demand: a better model is activated, a worse one is not."""
    return services.retrain_if_better().version
