"""The HTTP contract around the endpoints: HEAD, OPTIONS, 405, the documented statuses,
and the documentation pages."""

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.core.settings import Settings
from app.db.database import Database
from app.main import create_app
from tests.plugins.app import app_client

ITEMS = "/api/v1/items"
PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect", "/openapi.json")
# Headers that differ between any two responses.
PER_RESPONSE = {"x-request-id", "date"}


@pytest.fixture
async def item_id(client: AsyncClient) -> int:
    response = await client.post(ITEMS, json={"name": "probe", "quantity": 1})
    assert response.status_code == 201
    return int(response.json()["id"])


def get_paths(app: FastAPI, item_id: int) -> list[str]:
    """Every path with a GET: the documented ones (path parameters filled in) and the pages."""
    documented = [
        re.sub(r"\{[^}]+\}", str(item_id), path)
        for path, operations in app.openapi()["paths"].items()
        if "get" in operations
    ]
    return [*documented, *PAGES, "/docs/assets/swagger-ui.css"]


def stable_headers(response: Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_RESPONSE}


async def test_head_answers_like_get_without_the_body(
    app: FastAPI, client: AsyncClient, item_id: int
) -> None:
    paths = get_paths(app, item_id)
    assert f"{ITEMS}/{item_id}" in paths
    for path in paths:
        head = await client.head(path)
        get = await client.get(path)

        assert (path, head.status_code) == (path, get.status_code)
        assert head.content == b""
        assert stable_headers(head) == stable_headers(get), path
        assert int(head.headers["content-length"]) == len(get.content), path
    assert (await client.head(f"{ITEMS}/{item_id}")).status_code == 200


async def test_head_of_a_missing_item_is_404_without_a_body(client: AsyncClient) -> None:
    response = await client.head(f"{ITEMS}/999999")

    assert response.status_code == 404
    assert response.content == b""


async def test_405_lists_every_method_of_the_path(client: AsyncClient, item_id: int) -> None:
    # GET and PATCH and DELETE come from three routes; Starlette listed the first one's.
    response = await client.put(f"{ITEMS}/{item_id}", json={"name": "x"})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, PATCH, DELETE, OPTIONS"
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_405_on_a_path_without_get_does_not_offer_head(client: AsyncClient) -> None:
    response = await client.head("/health/live")
    assert response.status_code == 200

    response = await client.delete(ITEMS)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"


async def test_options_answers_allow_without_a_body(client: AsyncClient, item_id: int) -> None:
    collection = await client.options(ITEMS)
    one = await client.options(f"{ITEMS}/{item_id}")

    assert (collection.status_code, one.status_code) == (204, 204)
    assert collection.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert one.headers["allow"] == "GET, HEAD, PATCH, DELETE, OPTIONS"
    assert collection.content == b""


async def test_unknown_paths_stay_404_for_every_method(client: AsyncClient) -> None:
    for method in ("GET", "HEAD", "OPTIONS", "PUT"):
        response = await client.request(method, "/api/v1/nothing-here")

        assert response.status_code == 404, method


async def test_an_undecodable_body_is_400_in_the_error_schema(client: AsyncClient) -> None:
    response = await client.post(
        ITEMS, content=b'{"name": "\xff"}', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, by_method in app.openapi()["paths"].items()
        for method, operation in by_method.items()
    ]


def test_every_operation_documents_the_statuses_it_can_answer(app: FastAPI) -> None:
    for method, path, operation in operations(app):
        documented = set(operation["responses"])
        expected = {"500", "503"}
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        if "{" in path:
            expected |= {"404", "422"}
        if operation.get("parameters"):
            expected.add("422")
        assert expected <= documented, (method, path, expected - documented)


def test_error_statuses_are_described_by_the_error_schema(app: FastAPI) -> None:
    for method, path, operation in operations(app):
        for status in ("400", "413", "422", "500"):
            if status in operation["responses"]:
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, (
                    method,
                    path,
                    status,
                )


async def test_a_field_that_refuses_null_does_not_advertise_it(
    app: FastAPI, client: AsyncClient, item_id: int
) -> None:
    schema = app.openapi()["components"]["schemas"]["ItemUpdate"]["properties"]
    for field in ("name", "quantity", "description"):
        response = await client.patch(f"{ITEMS}/{item_id}", json={field: None})
        accepts_null = response.status_code == 200
        advertises_null = {"type": "null"} in schema[field].get("anyOf", [])

        assert accepts_null == advertises_null, field
    assert (await client.get(f"{ITEMS}/{item_id}")).json()["description"] is None


@pytest.fixture
async def production_client(settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    production = settings.model_copy(update={"environment": "production"})
    async with app_client(create_app(production, database=database)) as client:
        yield client


async def test_docs_and_openapi_are_off_in_production(production_client: AsyncClient) -> None:
    for path in (*PAGES, "/docs/assets/swagger-ui.css"):
        response = await production_client.get(path)

        assert response.status_code == 404, path
    assert (await production_client.get("/health/live")).status_code == 200


@pytest.mark.parametrize(("environment", "api_docs"), [("production", "on"), ("test", "auto")])
async def test_docs_are_served_when_the_setting_says_so(
    settings: Settings, database: Database, environment: str, api_docs: str
) -> None:
    chosen = settings.model_copy(update={"environment": environment, "api_docs": api_docs})
    async with app_client(create_app(chosen, database=database)) as client:
        for path in PAGES:
            assert (await client.get(path)).status_code == 200, path


async def test_docs_can_be_turned_off_anywhere(settings: Settings, database: Database) -> None:
    chosen = settings.model_copy(update={"environment": "development", "api_docs": "off"})
    async with app_client(create_app(chosen, database=database)) as client:
        for path in PAGES:
            assert (await client.get(path)).status_code == 404, path


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_their_assets_from_the_app(client: AsyncClient, page: str) -> None:
    html = (await client.get(page)).text
    parser = _Assets()
    parser.feed(html)

    assert parser.urls, html
    assert "://" not in html, "the page names another origin"
    for url in parser.urls:
        assert url.startswith("/"), url
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.content, url
