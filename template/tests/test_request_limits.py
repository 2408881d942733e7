from collections.abc import AsyncIterator

from fastapi import FastAPI
from httpx import AsyncClient

from app.core.settings import Settings

CHUNK = b"x" * 65_536


class Body:
    """A request body streamed in chunks, which counts how many the app pulled."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.size // len(CHUNK)):
            self.pulled += 1
            yield CHUNK


async def test_a_declared_length_over_the_limit_is_refused_unread(client: AsyncClient) -> None:
    body = Body(200 * 2**20)
    response = await client.post(
        "/api/v1/items",
        content=body,
        headers={"Content-Type": "application/json", "Content-Length": str(body.size)},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]
    assert body.pulled == 0


async def test_a_body_of_unknown_length_is_cut_off_once_past_the_limit(
    client: AsyncClient, settings: Settings
) -> None:
    body = Body(200 * 2**20)
    response = await client.post(
        "/api/v1/items", content=body, headers={"Content-Type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert body.pulled == settings.max_request_body_bytes // len(CHUNK) + 1


async def test_a_body_within_the_limit_is_parsed_as_usual(client: AsyncClient) -> None:
    def padded(name: str) -> bytes:
        return b'{"name": "%s"' % name.encode() + b" " * 500_000 + b"}"

    async def streamed(body: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(body), len(CHUNK)):
            yield body[start : start + len(CHUNK)]

    headers = {"Content-Type": "application/json"}
    declared = await client.post("/api/v1/items", content=padded("bolt"), headers=headers)
    chunked = await client.post("/api/v1/items", content=streamed(padded("nut")), headers=headers)

    assert "content-length" not in chunked.request.headers
    assert (declared.status_code, chunked.status_code) == (201, 201)


async def test_headers_over_the_limit_are_refused(client: AsyncClient, settings: Settings) -> None:
    response = await client.get(
        "/health/live", headers={"X-Padding": "x" * settings.max_request_header_bytes}
    )

    assert response.status_code == 431
    assert response.json()["error"]["code"] == "headers_too_large"


def test_the_refusals_are_documented_for_routes_that_take_a_body(app: FastAPI) -> None:
    responses = app.openapi()["paths"]["/api/v1/items"]["post"]["responses"]

    assert {"413", "431"} <= set(responses)
    assert responses["413"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
