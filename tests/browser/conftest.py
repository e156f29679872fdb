"""Browser test set-up: Debian's Chromium driven by Playwright, one browser per session.

(Playwright's sync API allows one instance per thread, so every browser test shares this
session fixture. The checkout branch carries a fuller version of this file - it also
installs chromium when missing; on merge keep that one: the fixture contract is the same.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.sandbox_process import CHROMIUM_ARGS


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
