"""The SSRF guard for libraries that resolve host names themselves (Apprise's requests and
smtplib): inside ``guarded_resolution()``, every name resolved through ``socket.getaddrinfo``
in this context (this thread, and the workers a library starts with a copy of the context, as
Apprise does for its timeouts) is checked like a webhook host.

The addresses checked are the addresses returned to the library, so it connects to exactly
what was checked (no second resolution a DNS rebinding could answer differently), and a
redirect to another host, or a host named in a query parameter, is checked as well. Outside
the block (other contexts, the event loop's resolver) ``getaddrinfo`` behaves as before.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from bolo.security.urls import UnsafeUrl, check_addresses

# The refusals of the innermost guarded block in this context (None: not guarded).
_refusals: ContextVar[list[str] | None] = ContextVar("bolo_guarded_resolution", default=None)
_install_lock = threading.Lock()
_original_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    infos = _original_getaddrinfo(host, port, *args, **kwargs)
    refusals = _refusals.get()
    if refusals is None or host is None:
        return infos
    name = host.decode("idna") if isinstance(host, bytes) else str(host)
    try:
        check_addresses(name, [str(info[4][0]) for info in infos])
    except UnsafeUrl as exc:
        refusals.append(str(exc))
        raise socket.gaierror(socket.EAI_NONAME, f"refused by the SSRF guard: {exc}") from None
    return infos


def _install() -> None:
    # Installed on first use only: a process that never sends through such a library keeps
    # the plain function, and the wrapper costs one attribute lookup outside the block.
    with _install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo


@contextmanager
def guarded_resolution() -> Iterator[list[str]]:
    """Inside the block, a host name this context resolves to any non-public address (outside
    ``BOLO_SECURITY_ALLOW_NETWORKS``) fails to resolve (``socket.gaierror``), so the library
    cannot connect there. Yields the list the refusal reasons are appended to: a caller whose
    library swallows errors (Apprise answers only True/False) reads from it why."""
    _install()
    refusals: list[str] = []
    token = _refusals.set(refusals)
    try:
        yield refusals
    finally:
        _refusals.reset(token)
