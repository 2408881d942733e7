"""Accounts in the tests: no first administrator, a member, and `client` signed in as it."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core.settings import Settings
from app.db.database import Database
from app.models.user import User
from tests.auth_helpers import bearer, create_user
from tests.plugins.app import app_client


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    # Tests create the users they need; the bootstrap tests configure an admin.
    return settings.model_copy(update={"first_superuser_email": None})


@pytest.fixture
async def member(database: Database) -> User:
    return await create_user(database, "member@example.com")


@pytest.fixture
async def client(app: FastAPI, member: User, settings: Settings) -> AsyncIterator[AsyncClient]:
    """Signed in as `member`, a regular user: what most endpoints expect."""
    async with app_client(app, {"Authorization": bearer(member, settings)}) as client:
        yield client
