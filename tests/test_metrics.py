"""service.metrics on its own: what a scrape shows, and workers adding up through one folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from service import metrics
from service.settings import PROJECT_ROOT

WORKER = """
import sys
from service import metrics
for _ in range(int(sys.argv[1])):
    metrics.count_llm_call()
metrics.count_request("GET", "/healthz", 200, 0.01)
"""
SCRAPE = "import sys; from service import metrics; sys.stdout.buffer.write(metrics.render(5))"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped[(name, frozenset(labels.items()))]


def test_render_has_every_metric_and_the_queue_depth() -> None:
    text = metrics.render(7).decode()
    for name in (
        "factcheck_http_requests_total",
        "factcheck_http_request_duration_seconds",
        "factcheck_llm_calls_total",
        "factcheck_llm_tokens_total",
        "factcheck_llm_retries_total",
        "factcheck_checks_total",
        "factcheck_check_verdicts_total",
    ):
        assert f"# TYPE {name} " in text
    assert value(samples(text), "factcheck_job_queue_depth") == 7
    assert "_created" not in text
    assert "factcheck_job_queue_depth" not in metrics.render(None).decode()


def test_workers_add_up_through_the_multiprocess_folder(tmp_path: Path) -> None:
    env = {**os.environ, metrics.MULTIPROC_ENV: str(tmp_path)}

    def python(code: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    python(WORKER, "2")
    python(WORKER, "3")
    scraped = samples(python(SCRAPE))
    assert value(scraped, "factcheck_llm_calls_total") == 5
    requests = value(
        scraped, "factcheck_http_requests_total", method="GET", route="/healthz", status="200"
    )
    assert requests == 2
    assert value(scraped, "factcheck_job_queue_depth") == 5
