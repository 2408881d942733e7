"""Mail through Celery in the tests: a worker must be running to send it."""

import pytest


@pytest.fixture
def mail_delivery(worker: str) -> None:
    """Mail leaves through the workers' mail queue: a real worker must be consuming it."""
