"""Redis in the tests: a key prefix per session, deleted at its end, and one per test."""

import uuid
from collections.abc import AsyncIterator

import pytest

from app.core.settings import Settings
from tests.redis_helpers import delete_keys, require_redis

# Every Redis key this session writes starts with this, so sessions (and the developer's
# own data) never meet, and the session can clean up after itself. A subprocess the tests
# start gets it in its environment, with the rest of the settings.
SESSION_KEYS = f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "redis_url": settings.test_redis_url or settings.redis_url,
            "redis_key_prefix": SESSION_KEYS,
            # Redis answers in well under a millisecond, but a busy test machine can stall
            # a command past production's timeout, and a miss would fail the counting
            # tests. The outage tests use a Redis that is not there: refused at once.
            "redis_timeout_seconds": 5.0,
        }
    )


@pytest.fixture(scope="session", autouse=True)
async def forget_test_keys(settings: Settings) -> AsyncIterator[None]:
    await require_redis(settings.redis_url)
    yield
    await delete_keys(settings.redis_url, f"{SESSION_KEYS}*")


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    # A key prefix per test: no test sees another's cached values or rate counters.
    own_keys = f"{SESSION_KEYS}-{uuid.uuid4().hex[:8]}"
    return app_settings.model_copy(update={"redis_key_prefix": own_keys})
