"""Celery in the tests: the tasks this process sends go to the tests' Redis."""

import os

import pytest

from app.core.settings import Settings
from app.worker.celery_app import celery_app


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"celery_broker_url": settings.test_redis_url or settings.redis_url}
    )


@pytest.fixture(scope="session", autouse=True)
def celery_on_test_redis(settings: Settings) -> None:
    """Celery reads its settings on its own (from the environment): point the tasks this
    process sends at the tests' Redis, where the test worker listens."""
    # Celery prefers these variables to its configuration: exported from .env, they would
    # send this process's tasks to the developer's broker, where no test worker listens.
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        os.environ.pop(name, None)
    celery_app.conf.update(
        broker_url=settings.celery_broker_url, result_backend=settings.celery_broker_url
    )
