"""Who may act on which record: access rules kept apart from the actions themselves."""

from app.auth.errors import PermissionDeniedError
from app.models.item import Item
from app.models.user import User


def ensure_can_change_item(user: User, item: Item) -> None:
    if not (user.is_admin or item.owner_id == user.id):
        raise PermissionDeniedError("Only the item's owner or an administrator may change it.")
