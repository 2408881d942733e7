from typing import Any

import pytest
from pydantic import ValidationError

from app.core.settings import Settings

STRONG = "k" * 48


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only what a test passes counts: not the shell's variables, not the developer's .env.
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **{"database_url": "postgresql+asyncpg://u@db/app", **values})


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("secret", ["change-me", "short", "CHANGE-ME"])
def test_weak_secret_is_refused_outside_development(environment: str, secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(environment=environment, secret_key=secret)


def test_missing_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        make(environment="production")


def test_strong_secret_is_accepted_in_production() -> None:
    assert make(environment="production", secret_key=STRONG).secret_key.get_secret_value() == STRONG


def test_development_tolerates_a_placeholder() -> None:
    assert make(environment="development", secret_key="change-me").environment == "development"


def test_plain_postgres_urls_are_switched_to_asyncpg() -> None:
    settings = make(secret_key=STRONG, database_url="postgres://u:p@db:5432/app")

    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/app"


def test_test_database_defaults_to_a_suffixed_twin() -> None:
    settings = make(secret_key=STRONG, database_url="postgresql+asyncpg://u:p@db:5432/app")

    assert settings.tests_database_url == "postgresql+asyncpg://u:p@db:5432/app_test"
    assert settings.schema_database_url == settings.database_url


def test_the_tests_migrate_as_the_migrations_role() -> None:
    app = make(
        secret_key=STRONG,
        database_url="postgresql+asyncpg://app:a@db:5432/svc",
        test_database_url="postgresql+asyncpg://app:a@db:5432/svc_test",
    )
    owned = app.model_copy(
        update={"migration_database_url": "postgresql+asyncpg://migrator:m@db:5432/svc"}
    )

    # One URL for everything: it migrates too.
    assert app.tests_schema_database_url == app.tests_database_url
    assert owned.tests_schema_database_url == "postgresql+asyncpg://migrator:m@db:5432/svc_test"


def test_secret_is_not_in_the_settings_repr() -> None:
    assert STRONG not in repr(make(secret_key=STRONG))


def test_trusted_proxies_take_addresses_and_networks_only() -> None:
    settings = make(secret_key=STRONG, trusted_proxies=["10.0.0.0/8", "192.0.2.7", "::1"])
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.0.2.7", "::1"]

    with pytest.raises(ValidationError, match=r"'proxy\.local' is not an IP address or network"):
        make(secret_key=STRONG, trusted_proxies=["proxy.local"])


def test_reset_db_is_refused_outside_development() -> None:
    assert make(secret_key=STRONG, reset_db=True).reset_db

    with pytest.raises(
        ValidationError, match="RESET_DB=true deletes every row: refused in production"
    ):
        make(environment="production", secret_key=STRONG, reset_db=True)
