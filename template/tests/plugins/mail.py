"""Mail in the tests: a real SMTP server catches every mail the session sends."""

from collections.abc import Iterator

import pytest

from app.core.settings import Settings
from tests.smtp_helpers import SmtpCatcher


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpCatcher]:
    """A real SMTP server that catches every mail the session sends."""
    catcher = SmtpCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="session")
def settings(settings: Settings, smtp: SmtpCatcher) -> Settings:
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port})


@pytest.fixture
def mail_delivery() -> None:
    """Mail leaves from the app's own background tasks: nothing else must be running."""
