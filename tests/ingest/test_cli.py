"""``xj ingest run``: user mistakes get one line saying what to fix; the service prints what it received."""

from __future__ import annotations

import subprocess
import sys
import time

import paho.mqtt.publish
import pytest

from cloud.cli import main
from proto import topics
from tests.ingest.messages import perception_env


@pytest.mark.parametrize(
    "args,fix",
    [
        (["--origin", "north"], "--origin must be LAT,LON"),
        (["--origin", "95,10"], "not a position on Earth"),
        (["--tick", "0"], "must be positive"),
        (["--password-file", "/nonexistent/pw"], "cannot read --password-file"),
    ],
    ids=["origin-text", "origin-range", "tick", "password-file"],
)
def test_bad_arguments_say_what_to_fix(args: list[str], fix: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "run", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xj: error: ") and fix in err


@pytest.mark.mqtt
def test_run_prints_status_and_metrics(mqtt_broker: tuple[str, int], uid: str) -> None:
    host, port = mqtt_broker
    topic = topics.topic("rsu", uid, "perception", "up")
    cmd = [sys.executable, "-m", "cloud.cli", "ingest", "run", "--host", host, "--port", str(port)]
    cmd += ["--topic", topic, "--every", "0.2", "--duration", "8", "--metrics"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:  # wait for the first status line of a connected service
            if " connected " in line:
                break
        for seq in range(3):
            payload = perception_env(uid, seq, time.time_ns()).SerializeToString()
            paho.mqtt.publish.single(topic, payload, qos=1, hostname=host, port=port)
        out = proc.stdout.read()
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert 'xj_ingest_messages_accepted_total{kind="perception"} 3' in out
    assert "detections 6" in out
