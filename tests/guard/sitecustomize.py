"""Puts the loopback guard into subprocesses the tests start (via PYTHONPATH)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import loopback_guard  # noqa: E402

loopback_guard.install()
