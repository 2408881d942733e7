"""Example tasks: one plain, one async with a database session (and scheduled by beat)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.item import Item
from app.worker.async_task import async_task
from app.worker.celery_app import celery_app


@celery_app.task(name="app.worker.tasks.ping")
def ping() -> str:
    """A plain synchronous task; answers when a worker is up."""
    return "pong"


@async_task(name="app.worker.tasks.purge_deleted_items")
async def purge_deleted_items(session: AsyncSession, older_than_days: int) -> int:
    """Delete items soft-deleted more than `older_than_days` ago; returns how many."""
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    result = await session.execute(delete(Item).where(Item.deleted_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
