"""A real Celery worker for the tests, and tasks that exist only to be tested.

The worker is a subprocess (`celery worker --pool solo`) that runs with exactly the test
session's settings, passed as environment variables, so it uses the same database, Redis
and key prefix as the tests that send it work.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from celery.exceptions import TimeoutError as ResultTimeoutError
from pydantic import SecretStr
from redis import Redis
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.models.item import Item
from app.worker.async_task import async_task
from app.worker.celery_app import celery_app
from app.worker.state import worker_state
from app.worker.tasks import ping

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@celery_app.task(
    name="tests.worker_probe.always_fails",
    autoretry_for=(RuntimeError,),
    retry_backoff=1,
    retry_jitter=False,
    max_retries=2,
)
def always_fails(attempts_key: str) -> None:
    Redis.from_url(worker_state().settings.redis_url).incr(attempts_key)
    msg = "this task always fails"
    raise RuntimeError(msg)


@async_task(name="tests.worker_probe.write_then_fail", max_retries=0)
async def write_then_fail(session: AsyncSession, name: str) -> None:
    await session.execute(insert(Item).values(name=name, quantity=1))
    msg = "failed after writing"
    raise RuntimeError(msg)


@async_task(name="tests.worker_probe.fails_with", max_retries=2)
async def fails_with(_: AsyncSession, attempts_key: str, transient: bool) -> None:
    Redis.from_url(worker_state().settings.redis_url).incr(attempts_key)
    if transient:
        msg = "the database went away"
        raise ConnectionResetError(msg)
    msg = "a bug: this is not a transient error"
    raise TypeError(msg)


@celery_app.task(name="tests.worker_probe.hangs_the_first_time")
def hangs_the_first_time(runs_key: str) -> int:
    """Counts its runs; the first one hangs until its worker is killed (or its time limit)."""
    runs = Redis.from_url(worker_state().settings.redis_url).incr(runs_key)
    if runs == 1:
        time.sleep(3600)
    return runs


def settings_env(settings: Settings) -> dict[str, str]:
    env = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[name.upper()] = json.dumps(value) if isinstance(value, list) else str(value)
    return env


def start_worker(settings: Settings, name: str, *options: str) -> subprocess.Popen[bytes]:
    """`celery worker` with exactly these settings, in a process group of its own (its pool
    processes with it), so that a test can kill the whole worker at once."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.worker.celery_app",
            "worker",
            "--include",
            "tests.worker_probe",
            "--hostname",
            name,
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            *options,
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings_env(settings)},
        start_new_session=True,
    )


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and every process of its pool: nothing is acknowledged or said."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def worker(settings: Settings, engine: object) -> Iterator[str]:
    """A worker on every queue, started once the test database is migrated: its node name,
    for control commands that should wait for its reply alone."""
    name = f"probe-{uuid.uuid4().hex[:8]}@localhost"
    process = start_worker(settings, name, "--pool", "solo")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the worker exited"
            try:
                assert ping.delay().get(timeout=5) == "pong"
                break
            except ResultTimeoutError:
                if time.monotonic() > deadline:
                    raise
        yield name
    finally:
        process.terminate()
        process.wait(timeout=30)
