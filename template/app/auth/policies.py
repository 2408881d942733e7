"""Who may act on which record: access rules kept apart from the actions themselves."""

from collections.abc import Mapping
from typing import Protocol

from app.auth.errors import PermissionDeniedError
from app.models.item import Item


class Actor(Protocol):
    """Who acts, as far as these rules ask: a `User`, or the `SignedIn` caller."""

    @property
    def id(self) -> int: ...

    @property
    def is_admin(self) -> bool: ...


def ensure_can_change_item(user: Actor, item: Item) -> None:
    if not (user.is_admin or item.owner_id == user.id):
        raise PermissionDeniedError("Only the item's owner or an administrator may change it.")


class ItemOwnership:
    """A signed-in user acting on items: they own the items they create, and change only
    those (an administrator, any)."""

    def __init__(self, user: Actor) -> None:
        self.user = user

    def new_item_columns(self) -> Mapping[str, object]:
        return {"owner_id": self.user.id}

    def check_change(self, item: Item) -> None:
        ensure_can_change_item(self.user, item)
