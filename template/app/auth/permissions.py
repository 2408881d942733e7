"""Permissions: who may do what. A route requires them through the dependency
`require` (`app.api.auth`): `dependencies=[require(IsAdmin)]` on a router or a route.

Write your own by subclassing `Permission` and implementing `allows`:

    class IsSupport(Permission):
        message = "Only support staff may do this."

        def allows(self, user: User | None) -> bool:
            return user is not None and user.email.endswith("@support.example.com")
"""

from abc import ABC, abstractmethod

from app.models.user import User


class Permission(ABC):
    message = "You are not allowed to do this."
    # Anonymous callers who fail it are told to log in (401) rather than refused (403).
    needs_login = True

    @abstractmethod
    def allows(self, user: User | None) -> bool: ...


class AllowAll(Permission):
    needs_login = False

    def allows(self, user: User | None) -> bool:
        return True


class IsAuthenticated(Permission):
    message = "You need to log in."

    def allows(self, user: User | None) -> bool:
        return user is not None


class IsAdmin(Permission):
    message = "Only administrators may do this."

    def allows(self, user: User | None) -> bool:
        return user is not None and user.is_admin
