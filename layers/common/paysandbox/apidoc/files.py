"""The two static files, as text: what is committed must equal what the models generate."""

from __future__ import annotations

import json
from pathlib import Path

from paysandbox.apidoc.build import document
from paysandbox.apidoc.page import render

DOCUMENT_FILE = "openapi.json"
PAGE_FILE = "docs.html"


def generated() -> dict[str, str]:
    doc = document()
    return {DOCUMENT_FILE: json.dumps(doc, indent=1, ensure_ascii=False) + "\n", PAGE_FILE: render(doc)}


def write(directory: Path) -> list[Path]:
    written = []
    for name, text in generated().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
