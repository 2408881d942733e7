"""Celery in the tests: the tasks this process sends go to the tests' Redis."""

import pytest

from app.core.settings import Settings
from app.worker.celery_app import configure_celery


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"celery_broker_url": settings.test_redis_url or settings.redis_url}
    )


@pytest.fixture(scope="session", autouse=True)
def celery_on_test_redis(settings: Settings) -> None:
    """Celery as the test session's settings say, as the worker it starts has it: the tasks
    this process sends go where that worker listens."""
    configure_celery(settings)
