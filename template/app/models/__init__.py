"""Every model, imported here so that Alembic's autogenerate sees the whole schema."""

from app.models.base import Base
from app.models.item import Item

__all__ = ["Base", "Item"]
