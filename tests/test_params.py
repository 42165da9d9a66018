"""A deployment run with bad parameters never reaches the flow body: Prefect's server refuses to
create it when the JSON schema says why (dates, the mode), and the flow engine fails it on
pydantic's validation (the order of the dates) before the body runs. Against the suite's
Prefect test server, with the flow run executed by the same engine call a worker makes."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def backfill_deployment(prefect_harness):
    from flows.backfill import backfill

    return backfill.to_deployment(name="params-check", parameters={"mode": "sitemaps"}).apply()


def _runs_of(deployment_id) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with get_client(sync_client=True) as client:
        return len(client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))))


@pytest.mark.parametrize("params,field,reason", [
    ({"since": "2025-04-31", "until": "2025-05-01"}, "since", "'2025-04-31' does not match"),
    ({"since": "yesterday", "until": "2025-05-01"}, "since", "'yesterday' does not match"),
    ({"since": "2025-04-01", "until": "2025-04-30", "mode": "everything"}, "mode",
     "'everything' is not one of ['reprocess', 'sitemaps']"),
])
def test_the_server_refuses_to_create_a_backfill_run_with_a_bad_parameter(backfill_deployment, params, field,
                                                                          reason):
    from prefect.deployments import run_deployment
    from prefect.exceptions import PrefectHTTPStatusError

    before = _runs_of(backfill_deployment)
    with pytest.raises(PrefectHTTPStatusError) as refused:
        run_deployment(backfill_deployment, parameters=params, timeout=0)
    assert refused.value.response.status_code == 409
    detail = refused.value.response.json()["detail"]
    assert f"Validation failed for field '{field}'" in detail and reason in detail, detail
    assert _runs_of(backfill_deployment) == before, "no flow run was created"


def test_a_backfill_run_with_until_before_since_fails_validation_before_its_body_runs(backfill_deployment, tmp_path):
    from prefect.deployments import run_deployment
    from prefect.flow_engine import run_flow

    from flows.backfill import backfill

    # Were the body to run, it would fail on the missing feeds file instead.
    run = run_deployment(backfill_deployment, timeout=0, parameters={
        "since": "2025-04-30", "until": "2025-04-01", "feeds_path": str(tmp_path / "missing.toml"),
        "db_path": str(tmp_path / "w.duckdb")})
    state = run_flow(backfill, flow_run=run, return_type="state")
    assert state.is_failed()
    assert "Validation of flow parameters failed" in state.message
    reason = str(state.result(raise_on_failure=False))
    assert "2025-04-01 is before since (2025-04-30)" in reason and "feeds file" not in reason
