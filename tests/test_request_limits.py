"""Oversized requests against the service started as its Dockerfile starts it: refused
before they are read, so that they cost the process no memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import Project
from tests.test_real_process import started

MIB = 2**20
BODY_BYTES = 200 * MIB
CHUNK = b"a" * 65_536
# What the process may grow by, at its peak, while it refuses six 200 MB bodies.
ALLOWED_GROWTH = 20 * MIB


def peak_rss(pid: int) -> int:
    """The most resident memory the process has held since it started, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def streamed_body() -> Iterator[bytes]:
    """200 MB, made as it is sent rather than held in memory."""
    for _ in range(BODY_BYTES // len(CHUNK)):
        yield CHUNK


def post_large(url: str, declared: bool) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(BODY_BYTES)
    response = httpx.post(url, content=streamed_body(), headers=headers, timeout=120)
    # Each way of sending is what it says: a declared length, or chunks of unknown length.
    assert ("content-length" in response.request.headers) == declared
    assert ("transfer-encoding" in response.request.headers) != declared
    return response


@pytest.mark.stage("process")
def test_a_200_mb_body_is_refused_without_growing_the_process(
    variant: Callable[[str], Project],
) -> None:
    project = variant("everything")
    env = project.env(project.migrated_database(), ENVIRONMENT="production", LOG_FORMAT="json")

    with started(project, env) as (base, process):
        signup = f"{base}/api/v1/auth/signup"
        # One small request first, so that the baseline includes every code path's imports.
        httpx.post(signup, json={"email": "warm@example.com", "password": "x"}, timeout=10)
        before = peak_rss(process.pid)
        one_by_one = [post_large(signup, declared) for declared in (True, False)]
        with ThreadPoolExecutor(4) as pool:
            at_once = list(pool.map(lambda d: post_large(signup, d), (True, False) * 2))
        after = peak_rss(process.pid)

    growth = (after - before) / MIB
    print(f"peak RSS {before / MIB:.0f} MiB -> {after / MIB:.0f} MiB (+{growth:.1f} MiB)")
    statuses = [r.status_code for r in one_by_one + at_once]
    assert statuses == [413] * 6, f"{statuses}; peak RSS grew {growth:.0f} MiB"
    assert {r.json()["error"]["code"] for r in one_by_one + at_once} == {"payload_too_large"}
    assert after - before < ALLOWED_GROWTH, f"peak RSS grew {growth:.0f} MiB"


@pytest.mark.stage("process")
def test_headers_over_the_limit_are_refused_in_the_error_schema(
    variant: Callable[[str], Project],
) -> None:
    project = variant("everything")
    env = project.env(project.migrated_database(), MAX_REQUEST_HEADER_BYTES="8192")

    with started(project, env) as (base, process):
        # One header over the limit: the app refuses it once the server has parsed it.
        parsed = httpx.get(f"{base}/health/live", headers={"X-Padding": "x" * 9000})
        before = peak_rss(process.pid)
        # A head that never ends: the server stops reading it past the limit.
        with httpx.Client(timeout=10) as client:
            endless = client.get(
                f"{base}/health/live",
                headers={f"X-Padding-{i}": "x" * 4000 for i in range(1000)},
            )
        after = peak_rss(process.pid)

    for response in (parsed, endless):
        assert response.status_code == 431
        assert response.json()["error"]["code"] == "headers_too_large"
    assert after - before < ALLOWED_GROWTH
