"""`@async_task`: a Celery task written as a coroutine, with a database session.

    @async_task(name="app.worker.tasks.purge")
    async def purge(session: AsyncSession, days: int) -> int: ...

    purge.delay(30)

The task runs on its worker process's event loop and database (`app.worker.state`), built
from the same settings and session factory as the API's. The session is committed when the
coroutine returns and rolled back when it raises, like a request's. A task that meets a
transient error (see `app.worker.delivery`) is retried with exponential backoff; any other
error, or the last retry's, is recorded as failed in the result backend at once.
"""

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

import structlog
from celery import Task
from celery.signals import task_failure
from celery.utils.time import get_exponential_backoff_interval
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.db.database import Database
from app.worker.celery_app import celery_app
from app.worker.delivery import is_transient
from app.worker.state import worker_state

P = ParamSpec("P")
R = TypeVar("R")
log = structlog.get_logger(__name__)


@task_failure.connect
def _log_failure(
    sender: Task[..., object] | None = None, task_id: str | None = None, **_: object
) -> None:
    # Reached when the task is recorded as failed (a permanent error, or retries spent).
    log.error("task_failed", task=getattr(sender, "name", None), task_id=task_id)


def backoff(settings: Settings, retries: int) -> int:
    """Seconds before the next attempt: doubling from 1, random below that (full jitter),
    at most CELERY_RETRY_BACKOFF_MAX, which the broker's visibility timeout allows for."""
    maximum = settings.celery_retry_backoff_max
    return get_exponential_backoff_interval(1, retries, maximum, full_jitter=True)


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

            state = worker_state()
            try:
                return state.run(in_transaction)
            except Exception as error:
                if not is_transient(error):
                    raise
                # Raises `error` itself once the retries are spent.
                countdown = backoff(state.settings, task.request.retries)
                raise task.retry(exc=error, countdown=countdown) from error

        run.__name__, run.__qualname__ = func.__name__, func.__qualname__
        run.__module__, run.__doc__ = func.__module__, func.__doc__
        task = celery_app.task(name=name, max_retries=max_retries)(run)
        return task

    return decorate
