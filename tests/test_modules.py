"""Optional modules: present when on, without a trace when off."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable

import pytest
from registry import AUTH, CORE

from tests.conftest import VARIANTS, Project

# Words only the auth module writes. Not "auth" alone (author_name), "superuser" (the
# database's) or "user" (the Dockerfile's USER); the log redaction list is core's own.
AUTH_REMNANTS = re.compile(
    r"(?i:jwt|pwdlib|argon|owner_id|first.superuser|refresh.token|oauth2|app\.auth|multipart"
    r"|email.validator|/auth/|/users|hashed_password|\bowners?\b)|\bUser\b|\busers\b|CurrentUser"
)


@pytest.fixture(scope="module")
def without_auth(variant: Callable[[str], Project]) -> Project:
    assert VARIANTS["without-auth"] == {"with_auth": False}
    return variant("without-auth")


def test_auth_off_leaves_no_trace(without_auth: Project) -> None:
    files = without_auth.files()
    paths = [str(p.relative_to(without_auth.path)) for p in files]
    remnants = [
        f"{p.relative_to(without_auth.path)}:{n}: {line.strip()}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if AUTH_REMNANTS.search(line)
    ]

    assert [p for p in paths if "auth" in p or "user" in p] == []
    assert remnants == []
    dependencies = tomllib.loads(without_auth.read("pyproject.toml"))["project"]["dependencies"]
    assert sorted(dependencies) == sorted(CORE.dependencies)
    env_names = {line.split("=")[0] for line in without_auth.read(".env.example").splitlines()}
    assert not {s.env for s in AUTH.settings} & env_names


def test_auth_on_brings_its_files_settings_and_dependencies(default_project: Project) -> None:
    dependencies = tomllib.loads(default_project.read("pyproject.toml"))["project"]["dependencies"]
    env_names = {line.split("=")[0] for line in default_project.read(".env.example").splitlines()}

    assert set(AUTH.dependencies) <= set(dependencies)
    assert {s.env for s in AUTH.settings} <= env_names
    assert (default_project.path / "app/db/migrations/versions/0002_create_users.py").exists()
    assert "owner_id" in default_project.read("app/models/item.py")


def test_first_admin_command_is_idempotent(default_project: Project) -> None:
    url = default_project.new_database()
    default_project.run("alembic", "upgrade", "head", database_url=url)

    first = default_project.run("app.auth.bootstrap", database_url=url)
    second = default_project.run("app.auth.bootstrap", database_url=url)

    assert first.stdout.strip().splitlines()[-1] == "created"
    assert second.stdout.strip().splitlines()[-1] == "nothing to do"
