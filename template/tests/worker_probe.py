"""A real Celery worker for the tests, and tasks that exist only to be tested.

The worker is a subprocess (`celery worker --pool solo`) that runs with exactly the test
session's settings, passed as environment variables, so it uses the same database, Redis
and key prefix as the tests that send it work.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis import Redis
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings, get_settings
from app.models.item import Item
from app.worker.async_task import async_task
from app.worker.celery_app import celery_app
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
    Redis.from_url(get_settings().redis_url).incr(attempts_key)
    msg = "this task always fails"
    raise RuntimeError(msg)


@async_task(name="tests.worker_probe.write_then_fail", max_retries=0)
async def write_then_fail(session: AsyncSession, name: str) -> None:
    await session.execute(insert(Item).values(name=name, quantity=1))
    msg = "failed after writing"
    raise RuntimeError(msg)


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


@pytest.fixture(scope="session")
def worker(settings: Settings, engine: object) -> Iterator[str]:
    """A worker on every queue, started once the test database is migrated: its node name,
    for control commands that should wait for its reply alone."""
    name = f"probe-{uuid.uuid4().hex[:8]}@localhost"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.worker.celery_app",
            "worker",
            "--pool",
            "solo",
            "--include",
            "tests.worker_probe",
            "--hostname",
            name,
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings_env(settings)},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the worker exited"
            try:
                assert ping.delay().get(timeout=5) == "pong"
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        yield name
    finally:
        process.terminate()
        process.wait(timeout=30)
