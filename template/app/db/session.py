"""One session per request. A request that changes data (POST, PUT, PATCH, DELETE) runs in
one transaction: commit when the endpoint succeeds, roll back on any error (except an
`AppError` that `keeps_changes`). A GET or HEAD only reads: its session runs in
autocommit, with nothing to commit, and refuses to flush changes."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError
from app.state import app_state

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = app_state(request.app).database
    if request.method in READ_ONLY_METHODS:
        async with database.read_sessionmaker() as session:
            yield session
        return
    async with database.sessionmaker() as session:
        try:
            yield session
        except AppError as exc:
            await (session.commit() if exc.keeps_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


# scope="function" commits before the response is sent, so a failed commit becomes an
# error response instead of a 2xx for data that was never stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
