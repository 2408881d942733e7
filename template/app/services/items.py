"""Business rules for items. Changes are flushed, never committed: the request commits."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import ConflictError, NotFoundError, sqlstate
from app.db.reads import Reader
from app.db.repositories.items import ItemRepository
from app.models.item import Item
from app.schema.item import ItemCreate, ItemRead, ItemUpdate
from app.schema.list_params import ListParams

UNIQUE_VIOLATION = "23505"
# The columns of the response and no more.
_READ_COLUMNS = tuple(ItemRead.model_fields)
_READ_BY_ID = select(*(Item.__table__.c[name] for name in _READ_COLUMNS)).where(
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


class ItemGuard(Protocol):
    """Who is acting on items: what a new item records of them, and whether they may
    change an item (`check_change` raises when they may not)."""

    def new_item_columns(self) -> Mapping[str, object]: ...

    def check_change(self, item: Item) -> None: ...


class Invalidation(Protocol):
    """Marks cached data stale when the request's transaction commits (not if it fails)."""

    def add(self, *, tags: Iterable[str]) -> None: ...


class Anyone:
    """No accounts: anyone may create, change and delete any item."""

    def new_item_columns(self) -> Mapping[str, object]:
        return {}

    def check_change(self, item: Item) -> None:
        return None


class NoCache:
    """Nothing is cached, so nothing goes stale."""

    def add(self, *, tags: Iterable[str]) -> None:
        return None


class ItemService:
    def __init__(
        self,
        repository: ItemRepository,
        *,
        guard: ItemGuard | None = None,
        invalidation: Invalidation | None = None,
    ) -> None:
        self.repository = repository
        self.guard = Anyone() if guard is None else guard
        self.invalidation = NoCache() if invalidation is None else invalidation

    async def get(self, item_id: int) -> Item:
        item = await self.repository.get(item_id)
        if item is None:
            raise _not_found(item_id)
        return item

    async def page(self, params: ListParams) -> tuple[Sequence[Item], int]:
        return await self.repository.page(params)

    async def create(self, data: ItemCreate) -> ItemRead:
        values = {**data.model_dump(), **self.guard.new_item_columns()}
        try:
            row = await self.repository.insert(values, returning=_READ_COLUMNS)
        except IntegrityError as exc:
            raise self._conflict(exc, data.name) from exc
        self.invalidation.add(tags=["items:list"])
        return ItemRead.model_validate(row)

    async def update(self, item_id: int, data: ItemUpdate) -> Item:
        item = await self._changeable(item_id)
        for field, value in data.model_dump(exclude_unset=True).items():
            setattr(item, field, value)
        try:
            return await self.repository.add(item)
        except IntegrityError as exc:
            # After a failed flush the item cannot be read again; name it from the request.
            raise self._conflict(exc, data.name) from exc

    async def delete(self, item_id: int) -> None:
        item = await self._changeable(item_id)
        item.soft_delete()

    async def _changeable(self, item_id: int) -> Item:
        """The item, once the guard allows the change; what it was is stale from now on."""
        item = await self.get(item_id)
        self.guard.check_change(item)
        self.invalidation.add(tags=["items:list", f"item:{item_id}"])
        return item

    @staticmethod
    def _conflict(exc: IntegrityError, name: str | None) -> Exception:
        if sqlstate(exc) == UNIQUE_VIOLATION:
            return ConflictError(f"An item named {name!r} already exists.")
        return exc


def _not_found(item_id: int) -> NotFoundError:
    return NotFoundError(f"Item {item_id} does not exist.")
