from fastapi import FastAPI
from httpx import AsyncClient

from app.state import app_state


async def test_liveness_answers_without_touching_dependencies(client: AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


async def test_readiness_reports_the_database(client: AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["database"] == "ok"


async def test_every_response_carries_a_request_id(client: AsyncClient) -> None:
    generated = await client.get("/health/live")
    echoed = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    refused = await client.get("/health/live", headers={"X-Request-ID": "bad id\twith tab"})

    assert len(generated.headers["x-request-id"]) == 32
    assert echoed.headers["x-request-id"] == "abc-123"
    assert refused.headers["x-request-id"] != "bad id\twith tab"


async def test_readiness_is_unavailable_while_draining(app: FastAPI, client: AsyncClient) -> None:
    app_state(app).draining = True

    ready = await client.get("/health/ready")
    live = await client.get("/health/live")

    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert live.status_code == 200
