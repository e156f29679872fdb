"""The README and docs/ stand alone: every relative link resolves, and nothing points outside the repo.

A reader follows links from the README into docs/ and between docs/ files; a renamed file or
heading must fail here, not on a reader. The folder beside the repository where the product's
contract was once kept is never a place the repository may send anyone.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".git", ".venv", ".venv-sam", ".aws-sam", "node_modules", "__pycache__", ".sandbox-state", "artifacts"}
TEXT_SUFFIXES = {".md", ".py", ".txt", ".toml", ".yaml", ".yml", ".json", ".html", ".cfg", ".ini", ".sh", ""}

FENCE = re.compile(r"^\s*(```|~~~)")
COMMENT = re.compile(r"<!--.*?-->", re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
# Spelled in two pieces so this file does not match itself.
OUTSIDE = re.compile("|".join([re.escape("../" + "shared"), re.escape("shared/" + "SPEC")]))


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, with HTML comments and code spans blanked."""
    text = COMMENT.sub(lambda match: "\n" * match.group().count("\n"), text)
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, CODE_SPAN.sub("", line)))
    return lines


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading anchors on its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: Counter[str] = Counter()
    found: set[str] = set()
    text = COMMENT.sub("", path.read_text(encoding="utf-8"))
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            base = slug(match.group(2))
            found.add(f"{base}-{seen[base]}" if seen[base] else base)
            seen[base] += 1
    return found


def broken_links(path: Path) -> list[str]:
    problems: list[str] = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            where = f"{path.relative_to(ROOT)}:{number}: {target}"
            if EXTERNAL.match(target):
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            if not resolved.is_relative_to(ROOT):
                problems.append(f"{where} (points outside the repository)")
            elif not resolved.exists():
                problems.append(f"{where} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{where} (no heading with that anchor)")
    return problems


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_every_document_in_docs_is_linked_from_the_readme_or_another_document() -> None:
    """A page no one links to is a page no one finds."""
    linked: set[Path] = set()
    for path in markdown_files():
        for _, line in prose_lines(path.read_text(encoding="utf-8")):
            for target in LINK.findall(line):
                file_part = target.partition("#")[0]
                if file_part and not EXTERNAL.match(target):
                    linked.add((path.parent / file_part).resolve())
    orphans = [str(path.relative_to(ROOT)) for path in markdown_files()[1:] if path.resolve() not in linked]
    assert orphans == []


def test_nothing_in_the_repository_points_outside_it() -> None:
    offenders: list[str] = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [name for name in subdirectories if name not in SKIPPED_DIRS]
        for name in files:
            path = Path(directory, name)
            if path.suffix not in TEXT_SUFFIXES:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            relative = path.relative_to(ROOT)
            offenders += [f"{relative}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert offenders == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("A five-minute tour", "a-five-minute-tour"),
        ("Dead letters: read them, redrive them", "dead-letters-read-them-redrive-them"),
        ("The local sandbox — `make run` (no Docker)", "the-local-sandbox--make-run-no-docker"),
    ],
)
def test_anchors_are_spelled_as_github_spells_them(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor
