"""What "fits the screen" means in the browser tests: no sideways scrolling, nothing past the
window's right edge, no text wider than its own box, no button or amount broken over two
lines, and (for the console) nothing in the main
column overlapping the side panel. Returns a readable list of problems, empty when it fits."""

from __future__ import annotations

from typing import Any

_PROBLEMS = """(sideSelector) => {
  const ONE_LINE = "button, .pill, td.amount";
  const problems = [];
  const name = (e) =>
    e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " " + (e.textContent || "").trim().slice(0, 40);
  const visible = (e, r) => r.width > 0 && r.height > 0 && e.checkVisibility();  // not in a closed <details>
  const page = document.documentElement.scrollWidth;
  if (page > window.innerWidth) problems.push("page is " + page + " px wide in a " + window.innerWidth + " px window");
  const side = sideSelector && document.querySelector(sideSelector);
  if (side) {
    const s = side.getBoundingClientRect();
    for (const e of side.parentElement.firstElementChild.querySelectorAll("*")) {
      const r = e.getBoundingClientRect();
      if (!visible(e, r)) continue;
      if (r.left < s.right - 1 && r.right > s.left + 1 && r.top < s.bottom - 1 && r.bottom > s.top + 1) {
        problems.push("overlaps the side panel: " + name(e));
      }
    }
  }
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (!visible(e, r)) continue;
    if (r.right > window.innerWidth + 1) problems.push("past the right edge: " + name(e));
    const scrollsByNature = ["PRE", "INPUT", "TEXTAREA"].includes(e.tagName);  // text fields scroll their value
    if (e.matches(ONE_LINE) && e.textContent.trim()) {  // a label broken mid-word, like "Deliveri / es"
      const range = document.createRange();
      range.selectNodeContents(e);
      const boxes = [...range.getClientRects()].filter((q) => q.width > 0);
      const top = Math.min(...boxes.map((q) => q.bottom));  // a box entirely below the first line's
      if (boxes.some((q) => q.top >= top - 1)) problems.push("wrapped: " + name(e));
    }
    if (getComputedStyle(e).overflowX !== "visible" && !scrollsByNature && e.scrollWidth > e.clientWidth + 1) {
      problems.push("clipped: " + name(e));
    }
  }
  return problems;
}"""


def layout_problems(page: Any, side_panel: str | None = None) -> list[str]:
    """``side_panel``: a selector of the right-hand panel; the main column is its first sibling."""
    problems: list[str] = page.evaluate(_PROBLEMS, side_panel)
    return problems
