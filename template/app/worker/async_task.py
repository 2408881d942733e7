"""`@async_task`: a Celery task written as a coroutine, with a database session.

    @async_task(name="app.worker.tasks.purge")
    async def purge(session: AsyncSession, days: int) -> int: ...

    purge.delay(30)

Each worker process keeps one event loop and one engine (asyncpg connections belong to
the loop that opened them), built from the same settings and session factory as the API.
The session is committed when the coroutine returns and rolled back when it raises, like
a request's; a task that raises is retried with exponential backoff, then recorded as
failed in the result backend.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

import structlog
from celery import Task
from celery.signals import task_failure, worker_process_shutdown
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import get_settings
from app.db.database import Database, create_database
from app.worker.celery_app import celery_app

P = ParamSpec("P")
R = TypeVar("R")
log = structlog.get_logger(__name__)


class _WorkerLoop:
    """The event loop and database of one worker process, made on first use."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.database: Database | None = None

    def run(self, coroutine: Callable[[Database], Awaitable[R]]) -> R:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        if self.database is None:
            self.database = create_database(get_settings())
        return self.loop.run_until_complete(coroutine(self.database))

    def close(self) -> None:
        if self.loop is not None and self.database is not None:
            self.loop.run_until_complete(self.database.engine.dispose())
        if self.loop is not None:
            self.loop.close()
        self.loop, self.database = None, None


worker_loop = _WorkerLoop()


@worker_process_shutdown.connect
def _close_worker_loop(**_: object) -> None:
    worker_loop.close()


@task_failure.connect
def _log_failure(
    sender: Task[..., object] | None = None, task_id: str | None = None, **_: object
) -> None:
    # Reached only once the retries are spent: the task is recorded as failed, and said so.
    log.error("task_failed", task=getattr(sender, "name", None), task_id=task_id)


def async_task(
    name: str, *, max_retries: int = 5
) -> Callable[[Callable[Concatenate[AsyncSession, P], Awaitable[R]]], Task[P, R]]:
    def decorate(func: Callable[Concatenate[AsyncSession, P], Awaitable[R]]) -> Task[P, R]:
        # Not functools.wraps: Celery checks calls against the signature it sees, and the
        # session is this decorator's to give, not the caller's.
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            async def in_transaction(database: Database) -> R:
                async with database.sessionmaker() as session:
                    try:
                        result = await func(session, *args, **kwargs)
                    except BaseException:
                        await session.rollback()
                        raise
                    await session.commit()
                    return result

            return worker_loop.run(in_transaction)

        run.__name__, run.__qualname__ = func.__name__, func.__qualname__
        run.__module__, run.__doc__ = func.__module__, func.__doc__
        return celery_app.task(
            name=name,
            autoretry_for=(Exception,),
            retry_backoff=True,
            retry_backoff_max=600,
            retry_jitter=True,
            max_retries=max_retries,
        )(run)

    return decorate
