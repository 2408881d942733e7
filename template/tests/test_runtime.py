"""The interpreter tuning the app applies when it is built (app/core/runtime.py)."""

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from app.core.settings import Settings
from app.db.database import Database
from app.main import create_app


@pytest.fixture
def restored_gc_threshold() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_gc_threshold")
def test_building_the_app_sets_the_young_generation_threshold(
    settings: Settings, database: Database
) -> None:
    gc.set_threshold(700, 9, 8)

    create_app(settings.model_copy(update={"gc_threshold": 12_345}), database=database)

    assert gc.get_threshold() == (12_345, 9, 8)


@pytest.mark.parametrize("threshold", [0, 699])
def test_a_threshold_below_pythons_own_is_refused(threshold: int) -> None:
    values: dict[str, Any] = {"database_url": "postgresql+asyncpg://u@db/app"}

    with pytest.raises(ValueError, match="gc_threshold"):
        Settings(_env_file=None, **values, gc_threshold=threshold)
