"""Start ``python -m sandbox`` as a user would (a subprocess on free ports) and stop it.

The end-to-end tests (their ``sandbox_factory`` fixture) and the benchmarks both use it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "e2e-operator-token"
SECRET = "e2e-webhook-secret"


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Nothing listens there and a new server (SO_REUSEADDR, as ours) could bind it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@dataclass
class Sandbox:
    process: subprocess.Popen[bytes]
    api_port: int
    emulator_port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def stop(self, timeout: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def start_sandbox(tmp_path: Path, **env: str) -> Sandbox:
    api_port, emulator_port = free_port(), free_port()
    log = tmp_path / "sandbox.log"
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_")) and k != "WEBHOOK_SECRET"
    }
    environ.update(
        {
            "PORT": str(api_port),
            "AWS_EMULATOR_PORT": str(emulator_port),
            "SERVICE_AUTH_TOKEN": TOKEN,
            "WEBHOOK_SECRET": SECRET,
            "PYTHONUNBUFFERED": "1",
            "SANDBOX_STATE_DIR": str(tmp_path / f"state-{api_port}"),  # never the repository's .sandbox-state
            **env,
        }
    )
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox"], cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT
        )
    sandbox = Sandbox(process, api_port, emulator_port, log)
    deadline = time.monotonic() + 60
    while "is up" not in sandbox.output():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the sandbox did not start:\n{sandbox.output()}")
        time.sleep(0.1)
    return sandbox
