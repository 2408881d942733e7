"""The template's own tests."""

import sys
from pathlib import Path

# Copier loads the extensions by path; the tests import them the same way.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extensions"))
