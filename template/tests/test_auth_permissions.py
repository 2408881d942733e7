"""The permission dependencies, and one written the way a project would write its own."""

import pytest
from fastapi import APIRouter, FastAPI

from app.api.auth import require
from app.auth.permissions import AllowAll, IsAdmin, IsAuthenticated, Permission
from app.core.settings import Settings
from app.db.database import Database
from app.models.user import User
from tests.auth_helpers import bearer, create_user
from tests.plugins.app import app_client


class IsExampleStaff(Permission):
    message = "Only example.com staff may do this."

    def allows(self, user: User | None) -> bool:
        return user is not None and user.email.endswith("@staff.example.com")


probe = APIRouter(prefix="/probe")


@probe.get("/open", dependencies=[require(AllowAll)])
async def open_to_all() -> None:
    return None


@probe.get("/members", dependencies=[require(IsAuthenticated)])
async def members_only() -> None:
    return None


@probe.get("/admins", dependencies=[require(IsAdmin)])
async def admins_only() -> None:
    return None


@probe.get("/staff", dependencies=[require(IsAuthenticated, IsExampleStaff)])
async def staff_only() -> None:
    return None


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    app.include_router(probe)
    return app


async def statuses(app: FastAPI, headers: dict[str, str]) -> dict[str, int]:
    async with app_client(app, headers) as client:
        return {
            path: (await client.get(f"/probe/{path}")).status_code
            for path in ("open", "members", "admins", "staff")
        }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", {"open": 200, "members": 401, "admins": 401, "staff": 401}),
        ("member", {"open": 200, "members": 200, "admins": 403, "staff": 403}),
        ("admin", {"open": 200, "members": 200, "admins": 200, "staff": 403}),
        ("staff", {"open": 200, "members": 200, "admins": 403, "staff": 200}),
    ],
)
async def test_permissions(
    probe_app: FastAPI,
    database: Database,
    settings: Settings,
    who: str,
    expected: dict[str, int],
) -> None:
    headers = {}
    if who != "anonymous":
        email = "ann@staff.example.com" if who == "staff" else f"{who}@example.com"
        user = await create_user(database, email, is_admin=who == "admin")
        headers["Authorization"] = bearer(user, settings)

    assert await statuses(probe_app, headers) == expected


async def test_refusals_use_the_error_schema(probe_app: FastAPI) -> None:
    async with app_client(probe_app) as client:
        response = await client.get("/probe/admins")

    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
