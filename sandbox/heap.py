"""glibc's allocator, asked to hold less memory the sandbox has freed.

One process runs the emulator, the gateway, the pollers and up to a dozen handler threads.
glibc gives threads their own malloc arenas (up to 8 per core) and keeps freed memory in each
for reuse, so request bursts and the state snapshot's large short-lived structures leave the
resident set high long after the objects are gone. Two arenas are plenty for one Python
process (the GIL lets one thread allocate at a time), and after each state snapshot what is
free is handed back. Elsewhere than glibc (musl, macOS) both are no-ops.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache
from typing import Any

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
ARENAS = 2


@cache
def _glibc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (only glibc has it)
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas; call before the process starts its threads."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, arenas) == 1)


def release_free_memory() -> None:
    """Return the pages malloc holds free (at the heap's top and inside it) to the system."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
