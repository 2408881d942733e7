"""Dependencies shared by the routers, as `Annotated` aliases.

Dependencies are `async def` even when they await nothing: FastAPI runs a plain `def`
dependency in its thread pool, which costs a thread hop on every request.
"""

from typing import Annotated

from fastapi import Depends, Request

from app.core.settings import Settings
from app.db.repositories.items import ItemRepository
from app.db.session import SessionDep
from app.services.items import ItemReads, ItemService
from app.state import app_state


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with (tests build apps with their own)."""
    return app_state(request.app).settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_item_service(session: SessionDep) -> ItemService:
    return ItemService(ItemRepository(session))


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]


async def get_item_reads(request: Request) -> ItemReads:
    # No session: a read that goes straight into the response needs none (app/db/reads.py).
    return ItemReads(app_state(request.app).database.reader)


ItemReadsDep = Annotated[ItemReads, Depends(get_item_reads)]
