"""The hostile suite's bookkeeping: a hard deadline per test, and the figures table.

`pytest tests/hostile -v` (or `python benchmarks/hostile.py`) prints one row per hostile case:
case, outcome, time, peak memory, then `N hostile cases, N survived, 0 articles lost`.
A case survives when the test asserting its outcome passed.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

import hostile_kit
import pytest
from hostile_kit import format_table, hard_deadline

TEST_DEADLINE = 240  # seconds; every case's own bound is much tighter and asserted in the test


@dataclass
class Case:
    case: str
    outcome: str
    seconds: float | None
    peak_mib: float | None
    lost: int = 0
    survived: bool = False
    test: str = ""


CASES: list[Case] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item._hostile_passed = report.passed


@pytest.fixture(scope="session", autouse=True)
def _deadline_output(request):
    """Deadline dumps go to the terminal: pytest's faulthandler plugin keeps a dup of its stderr."""
    try:
        from _pytest.faulthandler import fault_handler_stderr_fd_key

        hostile_kit.DEADLINE_FD = request.config.stash.get(fault_handler_stderr_fd_key, None)
    except ImportError:
        pass
    yield


@pytest.fixture(autouse=True)
def _hard_deadline():
    with hard_deadline(TEST_DEADLINE):
        yield


@pytest.fixture
def hostile_case(request):
    """record(case, outcome, seconds, peak_mib, lost=0): one row of the figures table."""
    mine: list[Case] = []

    def record(case: str, outcome: str, seconds: float | None = None, peak_mib: float | None = None,
               lost: int = 0) -> None:
        row = Case(case, outcome, seconds, peak_mib, lost, test=request.node.name)
        mine.append(row)
        CASES.append(row)

    yield record
    passed = getattr(request.node, "_hostile_passed", None)
    for row in mine:
        row.survived = bool(passed)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not CASES:
        return
    path = os.environ.get("HOSTILE_REPORT_JSON")
    if path:
        with open(path, "w") as fh:
            json.dump([asdict(c) for c in CASES], fh, indent=1)
    if config.option.verbose > 0 or os.environ.get("HOSTILE_REPORT_TABLE"):
        terminalreporter.section("hostile cases")
        for line in format_table([asdict(c) for c in CASES]):
            terminalreporter.write_line(line)
