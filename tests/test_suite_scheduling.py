"""The suite's own scheduling (tests/conftest.py): tests sharing a module-scoped fixture form one
xdist group, so under `make test` the fixture is set up once, on one worker.

xdist marks a group by a suffix it writes into the node id; a pytest whose node ids do not take it
(pytest 9.2 with xdist 3.8) spreads every group over the workers without a word."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def shared_by_this_module() -> object:
    return object()


def test_tests_sharing_a_module_fixture_run_as_one_xdist_group(request, shared_by_this_module):
    if not request.config.getoption("loadgroup", False):
        pytest.skip("runs under `--dist loadgroup` (make test, make check)")
    assert request.node.nodeid.endswith("@test_suite_scheduling"), request.node.nodeid
