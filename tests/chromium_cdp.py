"""A headless Chromium driven over the DevTools protocol, for the site tests.

Only what the tests need: launch, navigate, evaluate JS, screenshot, and the events that tell
whether a page misbehaved (console errors, exceptions, network requests). `png_colours`
decodes a screenshot with zlib alone, so no imaging library is needed.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import struct
import subprocess
import time
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websocket

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class CDPError(Exception):
    pass


def find_chromium() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


class Chromium:
    """One browser process with one page; `close()` ends the process group it started."""

    def __init__(self, executable: str, workdir: Path, timeout: float = 30) -> None:
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        profile = workdir / "profile"
        profile.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "chromium.log"
        with open(self.log, "wb") as log:
            # A new session: the renderer and zygote children share its process group.
            self.process = subprocess.Popen(
                [
                    executable,
                    "--headless=new",
                    "--no-sandbox",  # root in CI containers
                    "--disable-gpu",
                    "--remote-debugging-port=0",
                    f"--user-data-dir={profile}",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,900",
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        try:
            port = self._devtools_port(profile / "DevToolsActivePort")
            self.ws = websocket.create_connection(
                self._page_ws_url(port), timeout=timeout, suppress_origin=True
            )
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    # --- setup ---------------------------------------------------------------------------

    def _devtools_port(self, path: Path) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CDPError(f"chromium exited ({self.process.returncode}): {self._log_tail()}")
            try:
                lines = path.read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 2 and lines[0].isdigit():
                return int(lines[0])
            time.sleep(0.05)
        raise CDPError(f"no {path.name} after {self.timeout}s: {self._log_tail()}")

    def _page_ws_url(self, port: int) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as r:
                targets = json.load(r)
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.05)
        raise CDPError("chromium has no page target")

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    # --- the protocol --------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call `method` and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        call_id = self._next_id
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = self._receive(deadline)
            if message is not None and message.get("id") == call_id:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
        raise CDPError(f"{method}: no answer after {self.timeout}s")

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        self.ws.settimeout(max(0.01, min(1.0, deadline - time.monotonic())))
        try:
            message = json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None
        if "method" in message:
            self.events.append(message)
        return message

    def wait_event(
        self, method: str, predicate: Callable[[dict[str, Any]], bool] = lambda e: True
    ) -> dict[str, Any]:
        """The first kept or incoming `method` event matching `predicate`."""
        deadline = time.monotonic() + self.timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event["method"] == method and predicate(event.get("params", {})):
                    return event
            seen = len(self.events)
            if time.monotonic() >= deadline:
                raise CDPError(f"no {method} event after {self.timeout}s")
            self._receive(deadline)

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"{expression!r} threw: {text}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll a JS expression until it is truthy; returns its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise CDPError(f"still falsy after {timeout or self.timeout}s: {expression}")
            time.sleep(0.1)

    def navigate(self, url: str) -> None:
        """Load `url` with a clean event log; returns once its load event fired."""
        self.send("Page.navigate", {"url": "about:blank"})
        self.wait_for("document.readyState === 'complete' && location.href === 'about:blank'")
        self.events.clear()
        frame = self.send("Page.navigate", {"url": url})
        if frame.get("errorText"):
            raise CDPError(f"{url}: {frame['errorText']}")
        self.wait_event("Page.loadEventFired")

    def screenshot(self, clip: dict[str, float] | None = None) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if clip:
            params["clip"] = {**clip, "scale": 1}
        return base64.b64decode(self.send("Page.captureScreenshot", params)["data"])

    # --- what the page did ---------------------------------------------------------------

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries, one line each."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = [a.get("value", a.get("description", "")) for a in params.get("args", [])]
                found.append("console: " + " ".join(map(str, args)))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text")
                found.append(f"exception: {text}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
        return found

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


# --- PNG -------------------------------------------------------------------------------


def png_colours(png: bytes) -> int:
    """How many distinct pixel values an 8-bit RGB/RGBA PNG (as Chromium writes) holds."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, bpp)
        colours.update(bytes(row[i : i + bpp]) for i in range(0, stride, bpp))
        previous = row
    return len(colours)


def _unfilter(kind: int, row: bytearray, prev: bytearray, bpp: int) -> bytearray:
    """Undo one scanline's PNG filter (RFC 2083, 6.2) in place."""
    n = len(row)
    if kind == 1:
        for i in range(bpp, n):
            row[i] = (row[i] + row[i - bpp]) & 0xFF
    elif kind == 2:
        for i in range(n):
            row[i] = (row[i] + prev[i]) & 0xFF
    elif kind == 3:
        for i in range(n):
            left = row[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(n):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            row[i] = (row[i] + pred) & 0xFF
    elif kind != 0:
        raise ValueError(f"bad PNG filter type {kind}")
    return row
