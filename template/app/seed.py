"""Example items for development: `make seed`, and the last step of RESET_DB.

Idempotent: an example whose name a live item holds already is left as it is, so a second
run, or several at once, adds nothing.
"""

import asyncio

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import RELAXED_ENVIRONMENTS, Settings, get_settings
from app.db.database import create_database
from app.models.item import Item

EXAMPLES = (
    {"name": "Hex bolt M8", "description": "Zinc-plated steel, 40 mm.", "quantity": 120},
    {"name": "Washer M8", "description": None, "quantity": 300},
    {"name": "Torque wrench", "description": "10-60 Nm, 3/8 in drive.", "quantity": 4},
)


async def add_examples(session: AsyncSession) -> int:
    """Add the examples that are missing; how many were added."""
    added = await session.scalars(
        insert(Item)
        .values(EXAMPLES)
        .on_conflict_do_nothing(index_elements=[Item.name], index_where=Item.deleted_at.is_(None))
        .returning(Item.id)
    )
    return len(added.all())


async def seed(settings: Settings) -> int:
    database = create_database(settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            return await add_examples(session)
    finally:
        await database.engine.dispose()


def main() -> None:
    settings = get_settings()
    if settings.environment not in RELAXED_ENVIRONMENTS:
        raise SystemExit(f"Example data is for development: refused in {settings.environment}.")
    print(f"{asyncio.run(seed(settings))} example items added")


if __name__ == "__main__":
    main()
