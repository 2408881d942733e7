"""A generic repository: queries only, no commits (the request's transaction owns those)."""

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Insert, Select, bindparam, func, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models.base import Base, SoftDeleteMixin
from app.schema.list_params import Filter, ListParams

_OPERATORS = {
    "eq": lambda column, value: column == value,
    "ne": lambda column, value: column != value,
    "lt": lambda column, value: column < value,
    "lte": lambda column, value: column <= value,
    "gt": lambda column, value: column > value,
    "gte": lambda column, value: column >= value,
    "contains": lambda column, value: column.icontains(value, autoescape=True),
}


ModelT = TypeVar("ModelT", bound=Base)


class Repository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _live(self) -> Select[ModelT]:
        return _live(self.model)

    def _column(self, name: str) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(self.model, name)
        return column

    async def get(self, ident: int) -> ModelT | None:
        result = await self.session.execute(_by_primary_key(self.model), {"ident": ident})
        obj: ModelT | None = result.scalar_one_or_none()
        return obj

    async def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        # Flush now so that constraint violations surface here, where they can be named.
        await self.session.flush()
        return obj

    async def insert(self, values: Mapping[str, Any], returning: Sequence[str]) -> dict[str, Any]:
        """Insert one row in the session's transaction and return the `returning` columns,
        for a row that goes straight into a response: a Core INSERT ... RETURNING, without
        the ORM object and unit of work that `add` costs."""
        result = await self.session.execute(_insert(self.model, tuple(returning)), values)
        return dict(result.mappings().one())

    async def page(self, params: ListParams) -> tuple[Sequence[ModelT], int]:
        """One page and the total count, in a single round trip when the page is not empty."""
        stmt = self._live()
        for condition in params.filters:
            stmt = stmt.where(self._condition(condition))
        total_column = func.count().over().label("total")
        ordering = [
            self._column(s.field).desc() if s.descending else self._column(s.field).asc()
            for s in params.sort
        ]
        # The primary key breaks ties so that pages never overlap or skip rows.
        paged = (
            stmt.add_columns(total_column)
            .order_by(*ordering, self._column("id"))
            .limit(params.limit)
            .offset(params.offset)
        )
        rows = (await self.session.execute(paged)).all()
        if rows:
            return [row[0] for row in rows], int(rows[0][1])
        if params.offset == 0:
            return [], 0
        count = select(func.count()).select_from(stmt.subquery())
        return [], int((await self.session.execute(count)).scalar_one())

    def _condition(self, condition: Filter) -> Any:
        return _OPERATORS[condition.op](self._column(condition.field), condition.value)


def _live(model: type[ModelT]) -> Select[ModelT]:
    stmt = select(model)
    if issubclass(model, SoftDeleteMixin):
        stmt = stmt.where(model.deleted_at.is_(None))
    return stmt


@cache
def _insert(model: type[Base], returning: tuple[str, ...]) -> Insert:
    table = model.metadata.tables[model.__tablename__]
    return insert(table).returning(*(table.c[name] for name in returning))


@cache
def _by_primary_key(model: type[ModelT]) -> Select[ModelT]:
    # Built once per model: building a statement costs more than running a cached one.
    return _live(model).where(inspect(model).primary_key[0] == bindparam("ident"))
