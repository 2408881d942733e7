"""schemathesis, with every check, against the all-modules service run as a real process:
no 5xx, no response outside the OpenAPI document, no valid request refused and no invalid
one accepted."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Project
from tests.test_real_process import new_member, serve

# Test cases per operation and phase: about 1,000 requests, a minute or two on two cores.
MAX_EXAMPLES = 20

CONFIG = """\
# The password rules past the length (five different characters at least, not a
# well-known password) are more than a JSON schema can state: a password that fits the
# schema may still be refused with 422.
[[operations]]
include-path-regex = "/api/v1/(auth/signup|users/me)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# A confirmation link's token is signed: one that fits the schema is still refused (400)
# unless the service issued it.
[[operations]]
include-path-regex = "/api/v1/auth/confirm-email$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]
"""


def test_schemathesis_finds_nothing(variant: Callable[[str], Project], tmp_path: Path) -> None:
    project = variant("everything")
    url = project.migrated_database()
    # Rate limits would answer most of the run with 429 (documented, but it tests little).
    env = project.env(url, RATE_LIMIT_ENABLED="false", LOG_LEVEL="WARNING")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    har = tmp_path / "requests.har"

    with serve(project, env) as base:
        token = new_member(project, base)
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "--config-file",
                str(config),
                "run",
                f"{base}/openapi.json",
                "--checks=all",
                f"--max-examples={MAX_EXAMPLES}",
                "--workers=2",
                "--seed=15",
                f"--header=Authorization: Bearer {token}",
                "--report=har",
                f"--report-har-path={har}",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )

    requests = len(json.loads(har.read_text())["log"]["entries"])
    print(f"schemathesis: {requests} requests, exit code {result.returncode}")
    print(result.stdout[-3000:])
    assert requests > 500
    assert result.returncode == 0, result.stdout[-20000:]
