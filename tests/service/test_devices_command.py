"""``crucible devices``: the machine as measured and the sandbox as this host really grants it."""

from __future__ import annotations

from evaluator.profiling.ncu import find_ncu
from evaluator.sandbox.isolation import detect_isolation


def test_json_describes_the_cpu_with_a_measured_bandwidth_and_the_real_sandbox(crucible) -> None:  # type: ignore[no-untyped-def]
    result = crucible("devices", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    cpu = report["devices"][0]
    assert cpu["key"] == "cpu" and cpu["memory_bytes"] > 0
    assert cpu["copy_gbps"] is not None and cpu["copy_gbps"] > 0
    here = detect_isolation().describe()
    assert report["sandbox"] == {"enabled": True, **here}
    assert report["profilers"]["ncu"] == find_ncu()


def test_without_measuring_and_with_the_sandbox_off(crucible, crucible_env) -> None:  # type: ignore[no-untyped-def]
    crucible_env["CRUCIBLE_SANDBOX"] = "false"
    crucible_env["CRUCIBLE_NCU"] = "false"
    report = crucible("devices", "--no-measure", "--json").json()
    assert report["devices"][0]["copy_gbps"] is None
    assert report["sandbox"]["enabled"] is False and report["sandbox"]["network_namespace"] is False
    assert report["profilers"]["ncu_enabled"] is False
    table = crucible("devices", "--no-measure")
    assert table.code == 0 and "turned off by CRUCIBLE_SANDBOX=false" in table.stdout


def test_the_table_names_every_layer_and_says_which_hold(crucible) -> None:  # type: ignore[no-untyped-def]
    table = crucible("devices", "--no-measure")
    assert table.code == 0, table.stderr
    isolation = detect_isolation()
    for layer in ("network namespace", "PID namespace", "capabilities dropped", "cgroup"):
        assert layer in table.stdout
    assert f"Landlock (ABI {isolation.landlock_abi})" in table.stdout
    assert ("yes" in table.stdout) == any(
        (isolation.network_namespace, isolation.pid_namespace, isolation.landlock_abi, isolation.cgroups)
    )
