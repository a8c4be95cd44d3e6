"""A private Mosquitto started from deploy/mosquitto (its config, ACL and password format) on a free port."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import ModuleType

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "mosquitto"


def credentials_module() -> ModuleType:
    """``deploy/mosquitto/credentials.py`` (a script, not a package) imported by path."""
    spec = importlib.util.spec_from_file_location("xj_mosquitto_credentials", DEPLOY / "credentials.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def mosquitto_binary() -> str:
    """Path of the mosquitto broker; fails loudly when it is not installed."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        raise RuntimeError("mosquitto is not installed (scripts/services installs it)")
    return exe


class PrivateBroker:
    """Mosquitto with the shipped config on 127.0.0.1:<free port>, users from ``users`` (name -> password)."""

    def __init__(self, workdir: Path, users: dict[str, str]) -> None:
        cred = credentials_module()
        self.host, self.port = "127.0.0.1", free_port()
        self.users = users
        self.workdir = workdir
        passwd, _ = cred.write_credentials(users, workdir)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            cred.render_config(
                password_file=passwd,
                acl_file=DEPLOY / "acl",
                port=self.port,
                bind=self.host,
                persistence=False,
                run_as="root" if os.geteuid() == 0 else None,
            )
        )
        self.log = workdir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def _listening(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0):
                return True
        except OSError:
            return False

    def start(self, timeout: float = 20.0) -> None:
        """Start the broker and wait until it accepts connections."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not self._listening():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start on {self.port}:\n{self.log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the broker (this process only) and wait for it to exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
