"""Dependencies shared by the routers, as `Annotated` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from app.core.settings import Settings
from app.db.repositories.items import ItemRepository
from app.db.session import SessionDep
from app.services.items import ItemService


def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with (tests build apps with their own)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_item_service(session: SessionDep) -> ItemService:
    return ItemService(ItemRepository(session))


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
