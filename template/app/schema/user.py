from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from app.schema.text import NOT_BLANK

# Long enough to resist guessing, short enough that hashing it is not a denial of service.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
_COMMON_PASSWORDS = frozenset(
    {"password1234", "123456789012", "qwertyuiopas", "passwordpassword", "iloveyou1234"}
)


def _not_weak(password: str) -> str:
    if password.lower() in _COMMON_PASSWORDS or len(set(password)) < 5:
        msg = "the password is too easy to guess"
        raise ValueError(msg)
    return password


Password = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description="At least five different characters, and not a well-known password.",
    ),
    AfterValidator(_not_weak),
]
Email = Annotated[EmailStr, AfterValidator(str.lower)]
FullName = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    email: Email
    password: Password
    full_name: FullName | None = None


class UserUpdateMe(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    email: Email | None = None
    password: Password | None = None
    full_name: FullName | None = None
    current_password: str | None = Field(
        default=None,
        max_length=MAX_PASSWORD_LENGTH,
        description="Required to change the e-mail or the password.",
    )

    @model_validator(mode="after")
    def _credentials_need_the_current_password(self) -> Self:
        if (self.email is not None or self.password is not None) and not self.current_password:
            msg = "changing the e-mail or the password needs current_password"
            raise ValueError(msg)
        return self


class UserUpdateAdmin(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    full_name: FullName | None = None
    is_active: bool | None = None
    is_admin: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str | None
    is_active: bool
    is_admin: bool
    email_confirmed_at: datetime | None
    created_at: datetime
