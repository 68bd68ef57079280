"""`stagecast upload CAST [--server URL] [--scenario S] [--force]`: publish a verified cast to an
asciinema server.

Built on asciinema 2.4.0's client: `asciinema.config` finds (or creates) the install id and the
default server, `asciinema.api.Api.upload_asciicast` POSTs the file as multipart/form-data to
`{server}/api/asciicasts` with HTTP Basic auth (user $USER, password the install id).

Before anything leaves the machine: the cast must carry stagecast's provenance with
`verified: true` (else `--force`), and the leak scan must find nothing (no override). The scan
looks for the `--scenario`'s secrets and for each secret the provenance names (by a salted
fingerprint) that the environment holds; one it names but cannot be checked for (its variable
unset, or set to another value) refuses the upload too (else `--force`, with a warning).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from asciinema import config as asciinema_config
from asciinema.api import Api, APIError
from asciinema.urllib_http_adapter import URLLibHttpAdapter

from recorder.cast.leak_scan import SecretCheck, check_secrets, scan
from recorder.cast.model import Cast
from recorder.cast.reader import CastReadError, load_cast
from recorder.errors import CommandError

# Seconds a silent server may keep us waiting; urllib's default is forever.
TIMEOUT = 60.0


class UploadError(CommandError):
    """One line; exit 2 when we refused (bad input), 1 when the upload itself failed."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message, exit_code)


@dataclass(frozen=True)
class UploadResult:
    url: str
    warning: str | None = None  # the server's `Warning` header, e.g. an outdated client
    message: str | None = None  # the server's text for humans (asciinema-server sends one)
    unchecked: str | None = None  # uploaded with --force: the secrets it was not checked for


class _RecordingAdapter(URLLibHttpAdapter):
    """The library's adapter, keeping what its APIError drops: the status and body.

    It also keeps the `Warning` header visible: the adapter lower-cases header names but
    `upload_asciicast` looks up "Warning", so asciinema 2.4.0 never reports one.
    """

    status: int | None = None
    body: str = ""

    def post(self, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, str] | None, bytes]:
        status, headers, body = super().post(*args, **kwargs)
        self.status = status
        self.body = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        if headers and "warning" in headers:
            headers = {**headers, "Warning": headers["warning"]}
        return status, headers, body


def upload(
    cast: Path,
    *,
    server: str | None = None,
    force: bool = False,
    secrets: Sequence[str] = (),
) -> UploadResult:
    """Upload `cast`; return its URL, or raise UploadError with the one-line reason."""
    read = _read(cast)
    check = check_secrets(read, secrets)
    _refuse_leaks(read, check.values)
    unchecked = _unchecked(cast, check, force)
    if not force:
        _require_verified(read)
    config = _load_config()
    url = _server_url(server if server is not None else config.api_url)
    adapter = _RecordingAdapter()
    api = Api(url, os.environ.get("USER"), config.install_id, http_adapter=adapter)
    try:
        with _default_timeout(TIMEOUT):
            result, warning = api.upload_asciicast(str(cast))
    except APIError as exc:
        raise UploadError(_api_error(cast, url, adapter, exc, config.config_home)) from exc
    except json.JSONDecodeError as exc:
        raise UploadError(f"{cast}: upload failed: {url} answered with invalid JSON") from exc
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, bad responses
        raise UploadError(f"{cast}: upload failed: cannot reach {url}: {_one_line(exc)}") from exc
    return replace(_result(cast, url, result, warning), unchecked=unchecked)


def _read(cast: Path) -> Cast:
    """The cast, read whole: it must at least be one, and the leak scan reads every byte."""
    try:
        return load_cast(cast)
    except CastReadError as exc:
        if exc.missing:
            raise UploadError(f"{cast}: no such file", 2) from exc
        # A readable header with a bad event: the precise line, as `stagecast scan` says it.
        raise UploadError(exc.detail if exc.header_ok else str(exc), 2) from exc


def _require_verified(cast: Cast) -> None:
    provenance = cast.provenance
    if provenance is None:
        why = "it has no stagecast provenance in its header"
    elif not provenance.verified:
        why = "its provenance does not say verified: true"
    else:
        return
    raise UploadError(f"{cast.path}: not a verified cast ({why}); upload it anyway with --force", 2)


def _unchecked(cast: Path, check: SecretCheck, force: bool) -> str | None:
    """The secrets the provenance names that cannot be looked for: a refusal, or with
    `force` the warning to print."""
    problem = check.problem(cast)
    if problem is not None and not force:
        raise UploadError(f"{problem}; upload it anyway with --force", 2)
    return problem


def _refuse_leaks(cast: Cast, secrets: Sequence[str]) -> None:
    leaks = scan(cast, secrets)
    if leaks:
        raise UploadError(
            f"{cast.path}: refusing to upload: {len(leaks)} possible leak(s), first: {leaks[0]} "
            "(--force does not override this)",
            2,
        )


def _load_config() -> asciinema_config.Config:
    """asciinema's own config: $ASCIINEMA_CONFIG_HOME, else ~/.config/asciinema; it creates the
    install id on first use, exactly as `asciinema upload` does."""
    try:
        return asciinema_config.load()
    except asciinema_config.ConfigError as exc:
        raise UploadError(f"asciinema config: {_one_line(exc)}", 2) from exc
    except OSError as exc:
        raise UploadError(f"asciinema config: cannot create the install id: {exc}", 2) from exc
    except Exception as exc:  # noqa: BLE001 - get_config_home raises a bare Exception
        raise UploadError(f"asciinema config: {_one_line(exc)}", 2) from exc


def _server_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UploadError(f"--server {url!r}: not an http(s) URL", 2)
    return url.rstrip("/")  # Api appends /api/asciicasts


@contextlib.contextmanager
def _default_timeout(seconds: float) -> Iterator[None]:
    """Api gives urllib no timeout; sockets created meanwhile inherit the default."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _api_error(
    cast: Path, url: str, adapter: _RecordingAdapter, exc: APIError, config_home: str
) -> str:
    status = adapter.status
    if status is None:  # the library's HTTPConnectionError: never got an answer
        return f"{cast}: upload failed: cannot reach {url}: {_one_line(exc)}"
    body = _one_line(adapter.body)
    reasons = {
        400: f"bad request: {body}",
        401: "authentication failed: run `asciinema auth` with this install id "
        f"({os.path.join(config_home, 'install-id')})",
        404: f"no upload endpoint at {url}/api/asciicasts (is it an asciinema server?)",
        413: f"the cast is too large for this server ({cast.stat().st_size} bytes)",
        422: f"the server rejected the cast as an invalid asciicast: {body}",
    }
    reason = reasons.get(status)
    if reason is None:
        reason = "server error, try again later" if status >= 500 else _one_line(exc)
    return f"{cast}: upload failed: HTTP {status} {reason}"


def _result(cast: Path, url: str, result: Any, warning: Any) -> UploadResult:
    found = result.get("url") if isinstance(result, dict) else None
    if not isinstance(found, str) or not found.strip():
        raise UploadError(f"{cast}: upload failed: {url} answered without the recording's URL")
    message = result.get("message")
    return UploadResult(
        url=found.strip(),
        warning=_one_line(warning) if warning else None,
        message=message.strip() if isinstance(message, str) and message.strip() else None,
    )


def _one_line(text: object, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def cmd_upload(args: argparse.Namespace) -> int:
    """CLI glue: prints the URL on stdout, the warning on stderr; errors reach main()."""
    secrets = _scenario_secrets(args.scenario) if getattr(args, "scenario", None) else []
    result = upload(args.cast, server=args.server, force=args.force, secrets=secrets)
    if result.unchecked:
        print(f"stagecast: warning: {result.unchecked}", file=sys.stderr)
    if result.warning:
        print(f"stagecast: warning from the server: {result.warning}", file=sys.stderr)
    if result.message:
        print(result.message, file=sys.stderr)
    print(result.url)
    return 0


def _scenario_secrets(path: Path) -> list[str]:
    """`--scenario`: its declared secret values (their variables must be set)."""
    from recorder.scenario.loader import load_scenario
    from recorder.scenario.preflight import resolve_env

    return resolve_env(load_scenario(path))[1]
