"""The one rule for free text that travels on: no control or bidi-override characters.

Merchant-supplied strings (references, descriptions, order and user ids, ``tx_id``, an
operator's fail reason) end up in webhooks, logs, console rows and checkout pages. Refused:
every control character (C0 incl. NUL, tab and newline; DEL; C1), lone surrogates (not
encodable as UTF-8), and the invisible bidirectional formatting characters that make text
display differently from what it is (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C).
Ordinary Unicode, emoji with zero-width joiners and no-break spaces included, passes.
"""

from __future__ import annotations

import unicodedata
from typing import TypeVar

T = TypeVar("T")

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_refused(ch: str) -> bool:
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs")


def no_control_characters(value: T) -> T:
    """Pydantic ``AfterValidator``: a str with a refused character is a ValueError (422).

    Anything that is not a str (an integer ``order_id``) passes untouched.
    """
    if isinstance(value, str) and any(is_refused(ch) for ch in value):
        raise ValueError("must not contain control characters or bidirectional formatting characters")
    return value
