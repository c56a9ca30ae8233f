"""The scale benchmark (bench/bench_scale.py), scaled down: 20,000 simulated incidents generated inside a real
PostgreSQL database, every routine and view timed against its flat baseline, and the figures they time checked to
be the same figures the baselines give. The 10,000,000-incident run and its figures are in docs/postgresql.md."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bench import bench_scale

from .conftest import PG_URL


def test_the_scale_bench_runs_and_times_like_with_like(pg_server: Engine) -> None:
    result = bench_scale.main(["--rows", "20000", "--repeat", "1", "--server", PG_URL])
    assert result["incidents"] == 20000
    assert result["same_figures"] == {"group_summary view": True, "summary": True, "timeline": True}
    assert set(result["times"]) == {"timeline", "summary", "view group_summary", "view monthly_activity",
                                    "view incident_report by year and province"}
    for name, figures in result["times"].items():
        assert figures["s"] > 0 and figures["flat_s"] > 0 and figures["ratio_min"] > 0, name
    assert set(result["peak_mb"]) == {"timeline", "summary", "export groups", "export tables"}
    assert result["parquet"]["parquet_mb"] >= 0 and result["parquet"]["duckdb_groups_s"] > 0
    assert all(0 < peak < 500 for peak in result["peak_mb"].values()), result["peak_mb"]


@pytest.mark.parametrize("rows", [0, -5])
def test_the_scale_bench_refuses_no_rows(rows: int) -> None:
    with pytest.raises(SystemExit):
        bench_scale.main(["--rows", str(rows)])
