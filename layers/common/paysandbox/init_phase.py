"""A handler's init phase: the cyclic garbage collector waits until the handler is loaded.

Loading a handler creates a few hundred thousand long-lived objects (modules, classes,
botocore's service model, pydantic's validators) and next to no garbage. With the collector
on, CPython keeps running collections over those objects while they are still being created:
about a sixth of an HTTP function's cold start (``docs/cold-start.md``). So every handler
calls ``begin()`` before its imports and ``end()`` as its last statement.

``end()`` turns the collector back on and freezes what the init phase created
(``gc.freeze``): later collections never walk those objects again, so the work is dropped,
not moved into the first request. Objects still free themselves by reference counting; only
a reference cycle made during the init would stay, and the init makes none worth keeping.
"""

from __future__ import annotations

import gc

# Whether a begin() found the collector on. Kept until an end() turns it back on, so when two
# handlers load at once in one process (the local sandbox), or one of them fails to load, the
# next end() still turns the collector on.
_resume = False


def begin() -> None:
    """Pause the cyclic collector for the imports and module-level set-up that follow."""
    global _resume
    if gc.isenabled():
        gc.disable()
        _resume = True


def end() -> None:
    """The handler is ready: freeze what it loaded and turn the collector back on."""
    global _resume
    gc.freeze()
    if _resume:
        _resume = False
        gc.enable()
