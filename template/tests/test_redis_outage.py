"""Redis down, at start-up or later: the service stays up, degraded, and says so."""

from httpx import AsyncClient

from app.core.settings import Settings
from app.db.database import Database
from app.main import create_app
from app.state import app_state
from tests.plugins.app import app_client
from tests.redis_helpers import UNREACHABLE_REDIS


async def test_readiness_reports_redis(client: AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_without_redis_the_api_answers_from_the_database(
    settings: Settings, database: Database
) -> None:
    app = create_app(
        settings.model_copy(update={"redis_url": UNREACHABLE_REDIS}), database=database
    )

    async with app_client(app) as client:
        ready = await client.get("/health/ready")
        listed = [await client.get("/api/v1/items") for _ in range(3)]
        guard = app_state(app).redis
        first = await guard.run(lambda redis: redis.ping(), "probe")
        second = await guard.run(lambda redis: redis.ping(), "probe")

    # Degraded, not down: an orchestrator keeps sending traffic.
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "unavailable"},
    }
    assert [r.status_code for r in listed] == [200, 200, 200]
    # The outage is counted, and Redis is left alone for a while, not retried every time.
    assert (first, second) == (None, None)
    assert guard.failures == 1
