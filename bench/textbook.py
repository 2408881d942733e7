"""The textbook peer: the generated service's item requests as the FastAPI and SQLAlchemy
tutorials write them, for bench/service.py and bench/instructions.py to measure beside
the floor and the generated service.

An async SQLAlchemy ORM session per request from a `yield` dependency, typed `Mapped`
models, `response_model` schemas, `session.get` for an item, a count and a page for the
list, `add`, `commit` and `refresh` for a create. Nothing the generated service adds:
no authentication, error schema, request ids, access log, cache or rate limit. The same
table (the generated project's migrated `items`), the same JSON fields, and the
generated service's pool size, without overflow: the tutorials' default pool (5 plus 10
overflow) closes an overflow connection on every return at 64 connections, which would
measure reconnecting, not the code. Served by uvicorn as the floor is:

    DATABASE_URL=postgresql+asyncpg://... uvicorn --factory textbook:create_app --app-dir bench
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, DateTime, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int]
    owner_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    deleted_at: Mapped[datetime | None]


class ItemCreate(BaseModel):
    name: str
    description: str | None = None
    quantity: int = 0


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    quantity: int
    owner_id: int | None
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    items: list[ItemRead]
    total: int
    limit: int
    offset: int


SORTABLE = {"id", "name", "quantity", "created_at", "updated_at"}


def create_app() -> FastAPI:
    engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=20, max_overflow=0)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with sessionmaker() as session:
            yield session

    Session = Annotated[AsyncSession, Depends(get_session)]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/items/{item_id}", response_model=ItemRead)
    async def read_item(item_id: int, session: Session) -> Item:
        item = await session.get(Item, item_id)
        if item is None or item.deleted_at is not None:
            raise HTTPException(status_code=404, detail="Item not found")
        return item

    @app.get("/api/v1/items", response_model=Page)
    async def read_items(
        session: Session,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0)] = 0,
        sort: str = "id",
    ) -> Page:
        live = Item.deleted_at.is_(None)
        total = await session.scalar(select(func.count()).select_from(Item).where(live))
        field = sort.removeprefix("-")
        column = getattr(Item, field if field in SORTABLE else "id")
        order = column.desc() if sort.startswith("-") else column.asc()
        page = select(Item).where(live).order_by(order, Item.id).limit(limit).offset(offset)
        items = (await session.scalars(page)).all()
        return Page(
            items=[ItemRead.model_validate(i) for i in items],
            total=total or 0,
            limit=limit,
            offset=offset,
        )

    @app.post("/api/v1/items", response_model=ItemRead, status_code=201)
    async def create_item(data: ItemCreate, session: Session) -> Item:
        item = Item(**data.model_dump())
        session.add(item)
        await session.commit()
        await session.refresh(item)
        return item

    return app
