"""Concurrent onboarding of one name: one record, one execution, consistent answers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.api import environments_service, settings
from chalicelib.api.errors import ConflictError
from chalicelib.api.validation import onboard_request

from .conftest import ONBOARD_ARN, executions, onboard, record

THREADS = 8


def test_threads_posting_the_same_body_make_exactly_one_execution(
    client, atomic_aws_calls, stage_environ
):
    barrier = threading.Barrier(THREADS)

    def post_once(_):
        barrier.wait()
        response = onboard(client, "Race1", hostname="race.example.com")
        return response.status_code, response.json_body.get("execution_arn")

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(post_once, range(THREADS)))

    statuses = sorted(status for status, _ in answers)
    assert set(statuses) <= {200, 202}, answers
    assert statuses.count(202) == 1, answers
    assert len({arn for _, arn in answers}) == 1
    assert len(executions(ONBOARD_ARN)) == 1
    assert record("Race1")["version"] == 1


def test_threads_posting_different_bodies_one_wins_the_rest_conflict(
    client, atomic_aws_calls, monkeypatch
):
    # straight to the service: Chalice's app object holds one current_request, so different
    # concurrent requests through one app object would read each other's bodies
    monkeypatch.setenv("ONBOARD_STATE_MACHINE_ARN", ONBOARD_ARN)
    monkeypatch.setenv("ENVIRONMENTS_TABLE", "mwaa-gate-local-environments")
    barrier = threading.Barrier(THREADS)
    config = settings.load()

    def onboard_once(index):
        request = onboard_request(
            {"name": "Race2", "mode": "attach", "hostname": f"h{index}.example.com"}
        )
        barrier.wait()
        try:
            return environments_service.onboard(config, request, "tester")[0]
        except ConflictError:
            return 409

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = sorted(pool.map(onboard_once, range(THREADS)))

    assert statuses == [202] + [409] * (THREADS - 1)
    assert len(executions(ONBOARD_ARN)) == 1


def test_threads_claiming_one_hostname_for_different_environments(
    client, atomic_aws_calls, monkeypatch
):
    monkeypatch.setenv("ONBOARD_STATE_MACHINE_ARN", ONBOARD_ARN)
    monkeypatch.setenv("ENVIRONMENTS_TABLE", "mwaa-gate-local-environments")
    barrier = threading.Barrier(THREADS)
    config = settings.load()

    def claim(index):
        request = onboard_request(
            {"name": f"Claim{index}", "mode": "attach", "hostname": "one.example.com"}
        )
        barrier.wait()
        try:
            return environments_service.onboard(config, request, "tester")[0]
        except ConflictError:
            return 409

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = sorted(pool.map(claim, range(THREADS)))

    assert statuses == [202] + [409] * (THREADS - 1)
    holders = [f"Claim{i}" for i in range(THREADS) if record(f"Claim{i}")]
    assert len(holders) == 1
    assert len(executions(ONBOARD_ARN)) == 1
