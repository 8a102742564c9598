"""Benchmarks/latency.py, the project's independent load client, against a real server: a tiny
run over REST and one over the WebSocket send path must send what they scheduled and see every
copy once, so the second client the benchmarks quote does not rot unnoticed."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("send_path", ["rest", "ws"])
def test_latency_client_runs_and_counts_every_copy(server, send_path):
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "latency.jsonl"
        finished = subprocess.run(
            [sys.executable, str(ROOT / "Benchmarks" / "latency.py"), "--server", server.url,
             "--members", "3", "--senders", "2", "--rates", "4", "--seconds", "1", "--runs", "2",
             "--pause", "0", "--send-path", send_path, "--json", str(output)],
            capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        lines = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0]["rate"] == 4
    result = lines[0]
    assert len(result["runs"]) == 2
    assert result["lost"] == 0 and result["duplicated"] == 0 and result["failedSends"] == 0
    for run in result["runs"]:
        assert run["accepted"] == run["scheduled"] == 4
        assert run["copiesReceived"] == run["copiesExpected"] == 12
        assert 0 < run["latencyMs"]["p50"] <= run["latencyMs"]["max"]
    assert result["worst"]["latencyMs"]["p99"] == max(run["latencyMs"]["p99"] for run in result["runs"])
