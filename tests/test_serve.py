"""incidents serve: Datasette on the database with the project's metadata, started on a free port, queried over
HTTP and stopped. The expected figures come from the API's own summary."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from incidents import api
from incidents.cli import cli

from .conftest import FIXTURES

RUN = "import sys; from incidents.cli import main; sys.argv = ['incidents', *sys.argv[1:]]; main()"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local test server
        return json.loads(response.read())


def test_datasette_serves_the_views_with_their_descriptions_and_the_canned_queries(tmp_path: Path) -> None:
    database = tmp_path / "tour.db"
    api.init(f"sqlite:///{database}")
    api.load(f"sqlite:///{database}", [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", RUN, "--db", str(database), "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):  # up to a minute for it to start
            try:
                _get(f"{base}/-/versions.json")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("Datasette did not start: " + server.stdout.read().decode() if server.stdout else "")
        served = _get(f"{base}/tour/group_summary.json?_shape=array")
        expected = api.summary(f"sqlite:///{database}")
        assert {row["actor"]: row["incidents"] for row in served} == dict(
            zip(expected["group"], expected["incidents"], strict=True))
        metadata = _get(f"{base}/-/metadata.json")
        described = metadata["databases"]["tour"]["tables"]
        assert set(described) == {"incident_report", "group_summary", "monthly_activity"}
        reports = _get(f"{base}/tour/reports_behind_a_toll.json?_shape=array&key=PAK-2023-07-30-KHAR")
        shown = api.show(f"sqlite:///{database}", "PAK-2023-07-30-KHAR")
        assert len(reports) == len([r for r in shown["reports"] if not r["withdrawn"]])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    for _ in range(40):  # stopped: the server, the command's child, is gone within seconds
        try:
            _get(f"{base}/-/versions.json")
        except OSError:
            break
        time.sleep(0.25)
    else:
        pytest.fail("Datasette still answers after the command was stopped")


def test_serve_fails_when_datasette_cannot_listen(tmp_path: Path) -> None:
    database = tmp_path / "tour.db"
    api.init(f"sqlite:///{database}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-c", RUN, "--db", str(database), "serve", "--port", str(port)],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Datasette stopped with exit code" in result.stderr


def test_serve_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "serve"])
    assert result.exit_code != 0 and "No database at" in result.stderr
    pg = os.environ.get("INCIDENTS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    result = CliRunner().invoke(cli, ["--db", pg, "serve"])
    assert result.exit_code != 0 and "Datasette serves SQLite files" in result.stderr
    database = tmp_path / "tour.db"
    api.init(f"sqlite:///{database}")
    result = CliRunner().invoke(cli, ["--db", str(database), "serve", "--port", "70000"])
    assert result.exit_code != 0 and "port" in result.stderr
    for host in ("", "not a host", "http://x"):  # never an empty host, which Datasette takes as every address
        result = CliRunner().invoke(cli, ["--db", str(database), "serve", "--host", host])
        assert result.exit_code != 0 and "host" in result.stderr, host
