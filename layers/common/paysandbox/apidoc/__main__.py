"""``python -m paysandbox.apidoc [DIR]``: write ``openapi.json`` and ``docs.html`` into DIR
(default: the merchant function's folder, which serves them)."""

from __future__ import annotations

import sys
from pathlib import Path

from paysandbox.apidoc.files import write

DEFAULT_DIR = Path(__file__).resolve().parents[4] / "functions" / "create_payment"

if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    for path in write(target):
        print(f"wrote {path}")
