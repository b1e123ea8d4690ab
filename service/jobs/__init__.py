"""Asynchronous checks: jobs in the database, the worker that runs them, signed webhooks.

POST /v1/checks (Prefer: respond-async | callback_url)  submit.CheckService → 202
store.jobs.SqlJobs     the queue: rows of `checks`, claimed under a lease
worker.Worker          claims due jobs, runs Pipeline.check on them, delivers webhooks
webhooks               HMAC-SHA256 signed POSTs of the report, retried with backoff
"""

from __future__ import annotations

from service.jobs.submit import CheckService
from service.jobs.worker import Worker, instance_id
from service.pipeline.run import Pipeline
from service.settings import Settings
from service.store.jobs import SqlJobs
from service.store.sql import SqlStore


def build_jobs(pipeline: Pipeline, settings: Settings) -> tuple[CheckService, Worker]:
    """The submitting service and the worker of one instance, sharing its name in leases."""
    store = pipeline.store
    if not isinstance(store, SqlStore):  # the queue lives in the SQL database
        raise TypeError(f"asynchronous checks need the SQL store, not {type(store).__name__}")
    jobs = SqlJobs(store)
    owner = instance_id()
    worker = Worker(pipeline, jobs, settings, owner=owner)
    return CheckService(pipeline, jobs, settings, owner=owner), worker
