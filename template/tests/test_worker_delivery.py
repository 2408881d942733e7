"""When a task runs again, for real: after its whole worker is killed, and after a
transient error - but not after a permanent one."""

import time
import uuid
from collections.abc import Iterator

import pytest
from redis import Redis

from app.core.settings import Settings
from app.worker.delivery import RESTORE_INTERVAL, visibility_timeout
from tests.worker_probe import fails_with, hangs_the_first_time, kill_worker, start_worker

# Seconds a new worker takes to start and consume, on a slow machine.
WORKER_START = 30


@pytest.fixture
def redis(settings: Settings) -> Iterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    client.close()


def test_the_task_of_a_killed_worker_runs_again_within_the_visibility_timeout(
    settings: Settings, redis: Redis
) -> None:
    # Short limits make a short visibility timeout, as a deployment's limits make its own.
    limits = settings.model_copy(
        update={"celery_task_time_limit": 3, "celery_retry_backoff_max": 1}
    )
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    runs_key = f"{settings.redis_key_prefix}:runs:{uuid.uuid4().hex}"
    options = ("--queues", queue, "--concurrency", "1")
    first = start_worker(limits, f"first-{queue}@localhost", *options)
    second = None
    try:
        result = hangs_the_first_time.apply_async((runs_key,), queue=queue)
        deadline = time.monotonic() + 60
        while redis.get(runs_key) != b"1":
            assert time.monotonic() < deadline, "the first worker never started the task"
            time.sleep(0.05)
        kill_worker(first)
        killed_at = time.monotonic()
        second = start_worker(limits, f"second-{queue}@localhost", *options)
        bound = visibility_timeout(limits) + RESTORE_INTERVAL + WORKER_START

        assert result.get(timeout=bound) == 2
        assert time.monotonic() - killed_at < bound
    finally:
        kill_worker(first)
        if second is not None:
            kill_worker(second)


@pytest.mark.usefixtures("worker")
def test_a_permanent_error_fails_at_once_without_a_retry(settings: Settings, redis: Redis) -> None:
    attempts_key = f"{settings.redis_key_prefix}:attempts:{uuid.uuid4().hex}"

    result = fails_with.delay(attempts_key, transient=False)
    with pytest.raises(TypeError, match="not a transient error"):
        result.get(timeout=30)

    assert result.state == "FAILURE"
    assert redis.get(attempts_key) == b"1"


@pytest.mark.usefixtures("worker")
def test_a_transient_error_is_retried_then_recorded_as_failed(
    settings: Settings, redis: Redis
) -> None:
    attempts_key = f"{settings.redis_key_prefix}:attempts:{uuid.uuid4().hex}"

    result = fails_with.delay(attempts_key, transient=True)
    with pytest.raises(ConnectionResetError, match="went away"):
        result.get(timeout=60)

    assert result.state == "FAILURE"
    assert redis.get(attempts_key) == b"3"  # the first try and two retries
