from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

# Nothing listens on port 1: a Redis that is down, for the tests that need one.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def delete_keys(url: str, pattern: str) -> None:
    client = Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=pattern, count=1000):
            await client.unlink(key)
    finally:
        await client.aclose()


async def require_redis(url: str) -> None:
    """Stop the session, in one line, when the tests' Redis does not answer.

    The service carries on without Redis by design, so without this check the tests that
    count what Redis holds fail one by one on numbers that say nothing of why.
    """
    client = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        # The URL may hold a password: name the server only.
        parts = urlsplit(url)
        where = f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"
        pytest.exit(
            f"Redis at {where} is unreachable ({error}): start it (`make up`, or your local "
            "server), or point TEST_REDIS_URL at one.",
            returncode=pytest.ExitCode.INTERRUPTED,
        )
    finally:
        await client.aclose()
