import json

import pytest
import structlog

from app.core.logging import configure_logging


def test_logs_are_json_and_secrets_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    structlog.get_logger("test").info("login", email="a@example.com", password="hunter2")

    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert line["event"] == "login"
    assert line["password"] == "[redacted]"
    assert "hunter2" not in json.dumps(line)
