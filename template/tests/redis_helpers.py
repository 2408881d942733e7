from redis.asyncio import Redis

# Nothing listens on port 1: a Redis that is down, for the tests that need one.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def delete_keys(url: str, pattern: str) -> None:
    client = Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=pattern, count=1000):
            await client.unlink(key)
    finally:
        await client.aclose()
