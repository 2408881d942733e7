"""Who may act on which record: access rules kept apart from the actions themselves."""

from collections.abc import Mapping

from app.auth.errors import PermissionDeniedError
from app.models.item import Item
from app.models.user import User


def ensure_can_change_item(user: User, item: Item) -> None:
    if not (user.is_admin or item.owner_id == user.id):
        raise PermissionDeniedError("Only the item's owner or an administrator may change it.")


class ItemOwnership:
    """A signed-in user acting on items: they own the items they create, and change only
    those (an administrator, any)."""

    def __init__(self, user: User) -> None:
        self.user = user

    def new_item_columns(self) -> Mapping[str, object]:
        return {"owner_id": self.user.id}

    def check_change(self, item: Item) -> None:
        ensure_can_change_item(self.user, item)
