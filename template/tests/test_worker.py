"""Celery for real: a worker process, Redis, PostgreSQL."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kombu.exceptions import EncodeError
from redis.asyncio import Redis
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.settings import Settings
from app.models.item import Item
from app.worker.celery_app import celery_app
from app.worker.tasks import purge_deleted_items
from tests.worker_probe import always_fails, write_then_fail

pytestmark = pytest.mark.usefixtures("worker")


async def test_an_async_task_commits_its_writes(engine: AsyncEngine) -> None:
    stale, fresh = f"stale-{uuid.uuid4()}", f"fresh-{uuid.uuid4()}"
    long_ago = datetime.now(UTC) - timedelta(days=40)
    async with engine.begin() as connection:
        await connection.execute(
            insert(Item).values(
                [
                    {"name": stale, "quantity": 1, "deleted_at": long_ago},
                    {"name": fresh, "quantity": 1, "deleted_at": datetime.now(UTC)},
                ]
            )
        )
    try:
        result = purge_deleted_items.delay(older_than_days=30)
        purged = await asyncio.to_thread(result.get, timeout=30)

        async with engine.connect() as connection:
            left = set(
                (await connection.execute(select(Item.name).where(Item.name.in_([stale, fresh]))))
                .scalars()
                .all()
            )
        assert purged >= 1
        assert left == {fresh}
    finally:
        async with engine.begin() as connection:
            await connection.execute(delete(Item).where(Item.name.in_([stale, fresh])))


async def test_a_failing_async_task_rolls_back(engine: AsyncEngine) -> None:
    name = f"never-{uuid.uuid4()}"

    result = write_then_fail.delay(name)
    with pytest.raises(RuntimeError, match="failed after writing"):
        await asyncio.to_thread(result.get, timeout=30)

    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).where(Item.name == name))
    assert count == 0
    assert result.state == "FAILURE"


async def test_a_failing_task_is_retried_with_backoff_then_recorded_as_failed(
    settings: Settings,
) -> None:
    attempts_key = f"{settings.redis_key_prefix}:attempts:{uuid.uuid4().hex}"

    result = always_fails.delay(attempts_key)
    with pytest.raises(RuntimeError, match="always fails"):
        await asyncio.to_thread(result.get, timeout=30)

    redis = Redis.from_url(settings.redis_url)
    try:
        assert await redis.get(attempts_key) == b"3"  # the first try and two retries
    finally:
        await redis.aclose()
    assert result.state == "FAILURE"


def test_the_periodic_task_is_scheduled_and_registered(worker: str) -> None:
    schedule = celery_app.conf.beat_schedule

    # Asking one worker by name returns on its reply, not at the timeout.
    registered = celery_app.control.inspect(destination=[worker], timeout=5).registered() or {}

    assert schedule["purge-deleted-items"]["task"] == purge_deleted_items.name
    assert purge_deleted_items.name in registered.get(worker, [])


def test_arguments_json_cannot_carry_are_refused_when_sent() -> None:
    with pytest.raises(EncodeError):
        purge_deleted_items.delay(older_than_days=object())  # type: ignore[arg-type]
