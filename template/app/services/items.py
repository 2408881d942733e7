"""Business rules for items. Changes are flushed, never committed: the request commits."""

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from app.core.errors import ConflictError, NotFoundError, sqlstate
from app.db.repositories.items import ItemRepository
from app.models.item import Item
from app.schema.item import ItemCreate, ItemUpdate
from app.schema.list_params import ListParams

UNIQUE_VIOLATION = "23505"


class ItemService:
    def __init__(self, repository: ItemRepository) -> None:
        self.repository = repository

    async def get(self, item_id: int) -> Item:
        item = await self.repository.get(item_id)
        if item is None:
            msg = f"Item {item_id} does not exist."
            raise NotFoundError(msg)
        return item

    async def page(self, params: ListParams) -> tuple[Sequence[Item], int]:
        return await self.repository.page(params)

    async def create(self, data: ItemCreate, **columns: object) -> Item:
        """`columns` are values the caller decides rather than the client."""
        item = Item(**data.model_dump(), **columns)
        try:
            return await self.repository.add(item)
        except IntegrityError as exc:
            raise self._conflict(exc, data.name) from exc

    async def update(self, item: Item, data: ItemUpdate) -> Item:
        for field, value in data.model_dump(exclude_unset=True).items():
            setattr(item, field, value)
        try:
            return await self.repository.add(item)
        except IntegrityError as exc:
            # After a failed flush the item cannot be read again; name it from the request.
            raise self._conflict(exc, data.name) from exc

    async def delete(self, item: Item) -> None:
        item.soft_delete()

    @staticmethod
    def _conflict(exc: IntegrityError, name: str | None) -> Exception:
        if sqlstate(exc) == UNIQUE_VIOLATION:
            return ConflictError(f"An item named {name!r} already exists.")
        return exc
