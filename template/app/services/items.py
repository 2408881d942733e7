"""Business rules for items. Changes are flushed, never committed: the request commits."""

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import ConflictError, NotFoundError, sqlstate
from app.db.reads import Reader
from app.db.repositories.items import ItemRepository
from app.models.item import Item
from app.schema.item import ItemCreate, ItemRead, ItemUpdate
from app.schema.list_params import ListParams

UNIQUE_VIOLATION = "23505"
# A live item's columns, those of the response and no more.
_READ_BY_ID = select(*(Item.__table__.c[name] for name in ItemRead.model_fields)).where(
    Item.id == bindparam("item_id"), Item.deleted_at.is_(None)
)


class ItemReads:
    """Items read only to be sent back: from the row straight into `ItemRead`, with no ORM
    object in between (app/db/reads.py says why). Reads that lead to a change go through
    `ItemService`, which loads the object the change is made on."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def get(self, item_id: int) -> ItemRead:
        row = await self.reader.one_or_none(_READ_BY_ID, item_id=item_id)
        if row is None:
            raise _not_found(item_id)
        return ItemRead.model_validate(dict(row))


class ItemService:
    def __init__(self, repository: ItemRepository) -> None:
        self.repository = repository

    async def get(self, item_id: int) -> Item:
        item = await self.repository.get(item_id)
        if item is None:
            raise _not_found(item_id)
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


def _not_found(item_id: int) -> NotFoundError:
    return NotFoundError(f"Item {item_id} does not exist.")
