"""pyte 0.8.2 (the latest release) calls a CSI handler with `private=True` for any private
sequence (`ESC[?...`), but most of its handlers do not take that argument: `ESC[?4m` or
`ESC[?996n` in a real recording raise TypeError. Such a sequence is a DEC private variant
that pyte does not implement; a terminal that does not know it ignores it, and so do we.
(pyte PR #203 fixes the SGR case only, unreleased.)"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import pyte

ScreenClass = TypeVar("ScreenClass", bound=type[pyte.Screen])


def _takes_private(method: Callable[..., Any]) -> bool:
    params = inspect.signature(method).parameters.values()
    return any(p.name == "private" or p.kind is p.VAR_KEYWORD for p in params)


def _ignoring_private(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def handler(self: pyte.Screen, *args: Any, private: bool = False) -> Any:
        if private:
            return None
        return method(self, *args)

    return handler


def tolerate_private_csi(cls: ScreenClass) -> ScreenClass:
    """A screen class whose every CSI handler accepts `private` (see the module docstring)."""
    for name in set(pyte.Stream.csi.values()):
        method = getattr(cls, name, None)
        if method is not None and not _takes_private(method):
            setattr(cls, name, _ignoring_private(method))
    return cls


@tolerate_private_csi
class TolerantScreen(pyte.Screen):
    """pyte's screen, taking private CSI sequences it does not know without failing."""
