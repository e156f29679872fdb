"""Browser test set-up: Debian's Chromium driven by Playwright, one browser per session.

Playwright's own browser download does not work on these machines, so the Debian package is
used (installed here with apt-get when missing). Under CI=true a browser that still is not
there fails the run: the browser suite is never silently skipped there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.receiver import Received, Receiver, Reply
from sandbox.functions import functions
from sandbox.gateway import Gateway, api_routes

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _install_chromium() -> None:
    """apt-get the Debian `chromium` package, as root or through passwordless sudo."""
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            return
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, check=False, timeout=600)
    subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", "chromium"], env=env, check=False, timeout=1200)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _install_chromium()
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing and could not be installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def gateway(aws: None) -> Iterator[Gateway]:
    """The real handlers behind the same API Gateway stand-in the local sandbox uses."""
    server = Gateway(api_routes(functions()), port=0).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (own cookies) per test; fails the test on any CSP violation."""
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert violations == []


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def merchant_endpoint() -> Callable[[Received, int], Reply]:
    """``/ok`` answers 200, ``/flaky`` 500 once per payment then 200, ``/down`` 503."""
    failed_once: set[str] = set()

    def answer(request: Received, n: int) -> Reply:
        if request.path == "/down":
            return Reply(503)
        if request.path == "/flaky":
            payment_id = json.loads(request.body)["payment_id"]
            if payment_id not in failed_once:
                failed_once.add(payment_id)
                return Reply(500)
        return Reply(200)

    return answer


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        server.plan = merchant_endpoint()
        yield server
