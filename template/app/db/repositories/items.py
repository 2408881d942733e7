from app.db.repositories.base import Repository
from app.models.item import Item


class ItemRepository(Repository[Item]):
    model = Item
