"""`WorkerState`: what a worker process runs its tasks with, typed, like the API's `AppState`.

`app.worker.celery_app.configure_celery` makes it from the settings it configures Celery
with; tasks read it with `worker_state()`. The event loop and the database are made on
first use, in the process that runs the task: asyncpg connections belong to the loop that
opened them, and a prefork pool's processes are forked after the configuration.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from app.core.settings import Settings
from app.db.database import Database, create_database

R = TypeVar("R")


@dataclass(eq=False, slots=True)
class WorkerState:
    settings: Settings
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _database: Database | None = field(default=None, init=False)

    @property
    def database(self) -> Database:
        """The same engine and session factories as the API's, one per worker process."""
        if self._database is None:
            self._database = create_database(self.settings)
        return self._database

    def run(self, coroutine: Callable[[Database], Awaitable[R]]) -> R:
        """Run `coroutine(database)` to its end on this process's event loop."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine(self.database))

    def close(self) -> None:
        if self._loop is not None and self._database is not None:
            self._loop.run_until_complete(self._database.engine.dispose())
        if self._loop is not None:
            self._loop.close()
        self._loop, self._database = None, None


_state: WorkerState | None = None


def worker_state() -> WorkerState:
    if _state is None:
        msg = "The worker is not configured: app.worker.celery_app configures it on import."
        raise RuntimeError(msg)
    return _state


def use_worker_state(state: WorkerState) -> None:
    """Make `state` this process's, closing the one it replaces."""
    global _state
    if _state is not None:
        _state.close()
    _state = state
