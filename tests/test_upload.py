"""`stagecast upload` against a local server that speaks asciinema-server's upload contract."""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from player.publish import upload as upload_module
from player.publish.upload import UploadError, cmd_upload, upload

INSTALL_ID = "7c3f0d5e-1b2a-4c8d-9e6f-0a1b2c3d4e5f"
USER = "presenter"
SECRET = "hunter2-0f9e8d7c6b5a"


@dataclass
class Received:
    path: str
    user: str | None
    password: str | None
    field: str | None
    filename: str | None
    data: bytes
    accept: str | None


@dataclass
class FakeAsciinemaServer:
    """POST /api/asciicasts as asciinema-server answers it; `mode` picks the answer."""

    install_id: str = INSTALL_ID
    max_bytes: int = 1_000_000
    mode: str = "json"  # json | text | warning | 500 | hang
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def recording_url(self) -> str:
        return f"{self.url}/a/{len(self.received)}"


def _parse_upload(handler: BaseHTTPRequestHandler) -> Received:
    length = int(handler.headers.get("Content-Length", "0"))
    body = handler.rfile.read(length)
    auth = handler.headers.get("Authorization", "")
    user = password = None
    if auth.startswith("Basic "):
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
    head = f"Content-Type: {handler.headers.get('Content-Type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    field_name = filename = None
    data = b""
    for part in message.iter_parts() if message.is_multipart() else []:
        field_name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        data = part.get_payload(decode=True)
    return Received(
        handler.path, user, password, field_name, filename, data, handler.headers.get("Accept")
    )


def _handler(server: FakeAsciinemaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def reply(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            raw = body.encode()
            self.send_response(status)
            for name, value in {"Content-Length": str(len(raw)), **(headers or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            got = _parse_upload(self)
            server.received.append(got)
            if server.mode == "hang":
                time.sleep(2)
            if got.path != "/api/asciicasts":
                return self.reply(404, "Not Found")
            if got.password != server.install_id:
                return self.reply(401, "Unauthorized")
            if got.field != "asciicast":
                return self.reply(400, "missing asciicast field")
            if len(got.data) > server.max_bytes:
                return self.reply(413, "Payload Too Large")
            if not _looks_like_asciicast(got.data):
                return self.reply(422, '{"errors": {"version": ["is invalid"]}}\n')
            if server.mode == "500":
                return self.reply(500, "Internal Server Error")
            url = server.recording_url()
            if server.mode == "text":
                return self.reply(201, url + "\n", {"Location": url})
            headers = {"Location": url, "Content-Type": "application/json; charset=utf-8"}
            if server.mode == "warning":
                headers["Warning"] = "This client is outdated"
            body = json.dumps({"url": url, "message": f"View the recording at:\n\n    {url}\n"})
            return self.reply(201, body, headers)

    return Handler


def _looks_like_asciicast(data: bytes) -> bool:
    """As asciinema-server takes them: v1 (one JSON document), v2 or v3 (a header line)."""
    for text in (data.split(b"\n", 1)[0], data):
        try:
            header = json.loads(text)
        except ValueError:
            continue
        if isinstance(header, dict) and header.get("version") in (1, 2):
            return {"width", "height"} <= header.keys()
        if isinstance(header, dict) and header.get("version") == 3:
            return isinstance(header.get("term"), dict)
    return False


@pytest.fixture
def fake_server() -> Iterator[FakeAsciinemaServer]:
    state = FakeAsciinemaServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def asciinema_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """asciinema's config lives in tmp_path, with a known install id; nothing touches ~."""
    home = tmp_path / "asciinema-config"
    home.mkdir()
    (home / "install-id").write_text(INSTALL_ID + "\n")
    monkeypatch.setenv("ASCIINEMA_CONFIG_HOME", str(home))
    monkeypatch.setenv("USER", USER)
    for name in ("ASCIINEMA_API_URL", "ASCIINEMA_INSTALL_ID", "ASCIINEMA_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return home


def write_cast(
    path: Path, *, verified: bool | None = True, output: str = "hello\r\n", version: int = 2
) -> Path:
    header: dict[str, object] = {"version": version, "width": 80, "height": 24, "title": "t"}
    if verified is not None:
        header["stagecast"] = {"verified": verified, "scenario_sha256": "0" * 64, "steps": []}
    events = [[0.5, "m", "Hello"], [0.6, "o", "$ echo hello\r\n"], [0.9, "o", output]]
    path.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")
    return path


def test_uploads_the_exact_bytes_with_install_id_auth(tmp_path: Path, fake_server) -> None:
    cast = write_cast(tmp_path / "demo.cast")
    result = upload(cast, server=fake_server.url)
    (got,) = fake_server.received
    assert got.path == "/api/asciicasts"
    assert (got.user, got.password) == (USER, INSTALL_ID)
    assert got.field == "asciicast"
    assert got.data == cast.read_bytes()
    assert got.accept == "application/json"
    assert result.url == f"{fake_server.url}/a/1"
    assert result.warning is None
    assert result.message is not None and result.url in result.message


def test_a_plain_text_answer_is_the_url(tmp_path: Path, fake_server) -> None:
    fake_server.mode = "text"
    result = upload(write_cast(tmp_path / "demo.cast"), server=fake_server.url + "/")
    assert result.url == f"{fake_server.url}/a/1"
    assert result.message is None


def test_the_servers_warning_header_is_returned(tmp_path: Path, fake_server) -> None:
    fake_server.mode = "warning"
    result = upload(write_cast(tmp_path / "demo.cast"), server=fake_server.url)
    assert result.warning == "This client is outdated"


def test_default_server_comes_from_asciinema_config(
    tmp_path: Path, fake_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASCIINEMA_API_URL", fake_server.url)
    assert upload(write_cast(tmp_path / "demo.cast")).url == f"{fake_server.url}/a/1"


def test_a_missing_install_id_is_created_in_the_config_home(
    tmp_path: Path, fake_server, asciinema_home: Path
) -> None:
    (asciinema_home / "install-id").unlink()
    with pytest.raises(UploadError, match="HTTP 401"):
        upload(write_cast(tmp_path / "demo.cast"), server=fake_server.url)
    created = (asciinema_home / "install-id").read_text().strip()
    assert created and created != INSTALL_ID
    assert fake_server.received[0].password == created


@pytest.mark.parametrize(
    ("verified", "why"),
    [(None, "no stagecast provenance"), (False, "does not say verified: true")],
)
def test_unverified_casts_need_force(tmp_path: Path, fake_server, verified, why) -> None:
    cast = write_cast(tmp_path / "draft.cast", verified=verified)
    with pytest.raises(UploadError) as caught:
        upload(cast, server=fake_server.url)
    message = str(caught.value)
    assert "\n" not in message
    assert str(cast) in message and why in message and "--force" in message
    assert caught.value.exit_code == 2
    assert fake_server.received == []
    assert upload(cast, server=fake_server.url, force=True).url == f"{fake_server.url}/a/1"
    assert fake_server.received[0].data == cast.read_bytes()


def test_leaks_refuse_even_with_force(tmp_path: Path, fake_server) -> None:
    cast = write_cast(tmp_path / "leaky.cast", output=f"token={SECRET}\r\n")
    for force in (False, True):
        with pytest.raises(UploadError) as caught:
            upload(cast, server=fake_server.url, force=force, secrets=[SECRET])
        message = str(caught.value)
        assert "\n" not in message
        assert str(cast) in message and "1 possible leak(s)" in message and "--force" in message
        assert "secret" in message
        assert SECRET not in message  # the refusal must not print what it protects
        assert caught.value.exit_code == 2
    assert fake_server.received == []


def test_credentials_are_found_without_declared_secrets(tmp_path: Path, fake_server) -> None:
    token = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl"
    cast = write_cast(tmp_path / "leaky.cast", output=f"{token}\r\n{token}\r\n", verified=None)
    with pytest.raises(UploadError, match="refusing to upload: 2 possible leak") as caught:
        upload(cast, server=fake_server.url, force=True)
    assert "eyJhbGciOiJSUzI1NiJ9" not in str(caught.value)
    assert fake_server.received == []


def test_a_clean_cast_passes_the_leak_scan_with_secrets_given(tmp_path: Path, fake_server) -> None:
    cast = write_cast(tmp_path / "clean.cast")
    assert upload(cast, server=fake_server.url, secrets=[SECRET]).url


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("wrong-id", "HTTP 401 authentication failed: run `asciinema auth` with this install id"),
        ("too-large", "HTTP 413 the cast is too large for this server"),
        ("invalid", "HTTP 422 the server rejected the cast as an invalid asciicast: {"),
        ("500", "HTTP 500 server error, try again later"),
    ],
)
def test_http_errors_are_one_clear_line(
    tmp_path: Path, fake_server, asciinema_home: Path, setup: str, expected: str
) -> None:
    cast = write_cast(tmp_path / "demo.cast")
    if setup == "wrong-id":
        fake_server.install_id = "someone-else"
    elif setup == "too-large":
        fake_server.max_bytes = 10
    elif setup == "invalid":  # a verified header, but no terminal size: the server says 422
        header = {"version": 2, "stagecast": {"verified": True}}
        cast.write_text(json.dumps(header) + "\n", encoding="utf-8")
    else:
        fake_server.mode = "500"
    with pytest.raises(UploadError) as caught:
        upload(cast, server=fake_server.url)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{cast}: upload failed: ")
    assert expected in message
    assert caught.value.exit_code == 1
    if setup == "wrong-id":
        assert str(asciinema_home / "install-id") in message
        assert INSTALL_ID not in message  # the install id is the password


def test_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UploadError) as caught:
        upload(write_cast(tmp_path / "demo.cast"), server=f"http://127.0.0.1:{port}")
    message = str(caught.value)
    assert "\n" not in message and f"cannot reach http://127.0.0.1:{port}" in message


def test_a_silent_server_times_out(
    tmp_path: Path, fake_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_server.mode = "hang"
    monkeypatch.setattr(upload_module, "TIMEOUT", 0.3)
    started = time.monotonic()
    with pytest.raises(UploadError, match="cannot reach .*timed out"):
        upload(write_cast(tmp_path / "demo.cast"), server=fake_server.url)
    assert time.monotonic() - started < 1.5
    assert socket.getdefaulttimeout() is None  # restored


@pytest.mark.parametrize("server", ["ftp://example.org", "asciinema.org", "http://"])
def test_bad_server_url(tmp_path: Path, server: str) -> None:
    with pytest.raises(UploadError, match="not an http\\(s\\) URL") as caught:
        upload(write_cast(tmp_path / "demo.cast"), server=server)
    assert caught.value.exit_code == 2


def test_not_a_cast(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="no such file"):
        upload(tmp_path / "missing.cast", force=True)
    junk = tmp_path / "junk.cast"
    junk.write_text("hello\n")
    with pytest.raises(UploadError, match="not an asciicast v1, v2 or v3 file"):
        upload(junk, force=True)


def test_cmd_upload_prints_the_url(tmp_path: Path, fake_server, capsys) -> None:
    fake_server.mode = "warning"
    args = argparse.Namespace(
        cast=write_cast(tmp_path / "demo.cast"), server=fake_server.url, force=False
    )
    assert cmd_upload(args) == 0
    out, err = capsys.readouterr()
    assert out == f"{fake_server.url}/a/1\n"
    assert "This client is outdated" in err


def test_the_published_tour_cast_uploads(fake_server) -> None:
    tour = Path(__file__).resolve().parents[1] / "casts" / "tour.cast"
    if not tour.exists():
        pytest.skip("casts/tour.cast is not recorded yet (stagecast record scenarios/tour.yaml)")
    assert upload(tour, server=fake_server.url).url == f"{fake_server.url}/a/1"
    assert fake_server.received[0].data == tour.read_bytes()


# --- secrets the cast's provenance names ---------------------------------------------------

TOKEN_VAR = "UPLOAD_TEST_DEMO_TOKEN"


def named_cast(path: Path, value: str = SECRET, output: str = "hello\r\n") -> Path:
    """A verified cast whose provenance names $UPLOAD_TEST_DEMO_TOKEN, recorded as `value`."""
    from recorder.cast.provenance import SecretFingerprint

    write_cast(path, output=output)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["stagecast"]["secrets"] = [vars(SecretFingerprint.of(TOKEN_VAR, value))]
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    return path


def test_a_named_secret_set_in_the_environment_is_scanned_for_in_every_form(
    tmp_path: Path, fake_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_VAR, SECRET)
    encoded = base64.b64encode(SECRET.encode()).decode()
    cast = named_cast(tmp_path / "leaky.cast", output=f"password: {encoded}\r\n")
    for force in (False, True):
        with pytest.raises(UploadError, match="refusing to upload: 1 possible leak") as caught:
            upload(cast, server=fake_server.url, force=force)
        assert "secret: password: *** (base64)" in str(caught.value)
        assert encoded not in str(caught.value) and caught.value.exit_code == 2
    assert fake_server.received == []
    clean = named_cast(tmp_path / "clean.cast")
    result = upload(clean, server=fake_server.url)
    assert result.url and result.unchecked is None


@pytest.mark.parametrize(
    ("env", "why"),
    [(None, "not set in the environment"), ("another-value-1234", "set, but not to the value")],
)
def test_a_named_secret_that_cannot_be_checked_needs_force(
    tmp_path: Path, fake_server, monkeypatch: pytest.MonkeyPatch, env, why: str
) -> None:
    if env is None:
        monkeypatch.delenv(TOKEN_VAR, raising=False)
    else:
        monkeypatch.setenv(TOKEN_VAR, env)
    cast = named_cast(tmp_path / "demo.cast")
    with pytest.raises(UploadError) as caught:
        upload(cast, server=fake_server.url)
    message = str(caught.value)
    assert "\n" not in message and caught.value.exit_code == 2
    assert f"cannot check for the secret(s) its provenance names: {TOKEN_VAR} ({why}" in message
    assert message.endswith("upload it anyway with --force")
    assert fake_server.received == []
    result = upload(cast, server=fake_server.url, force=True)
    assert result.url == f"{fake_server.url}/a/1"
    assert result.unchecked is not None and TOKEN_VAR in result.unchecked
    assert "\n" not in result.unchecked


def test_a_given_secret_stands_for_the_environment(
    tmp_path: Path, fake_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_VAR, raising=False)
    assert upload(named_cast(tmp_path / "ok.cast"), server=fake_server.url, secrets=[SECRET]).url
    hexed = SECRET.encode().hex()
    leaky = named_cast(tmp_path / "leaky.cast", output=f"{hexed}\r\n")
    with pytest.raises(UploadError, match=r"secret: \*\*\* \(hex\)"):
        upload(leaky, server=fake_server.url, secrets=[SECRET])


def test_cmd_upload_takes_the_scenario_and_warns_in_one_line(
    tmp_path: Path, fake_server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    scenario = tmp_path / "demo.yaml"
    scenario.write_text(
        f"title: t\nenv:\n  TOKEN: {{from_env: {TOKEN_VAR}, secret: true}}\n"
        "steps:\n  - run: echo hi\n"
    )
    monkeypatch.setenv(TOKEN_VAR, SECRET)
    leaky = named_cast(tmp_path / "leaky.cast", output=f"{SECRET[::-1]} {SECRET}\r\n")
    args = argparse.Namespace(cast=leaky, server=fake_server.url, force=False, scenario=scenario)
    with pytest.raises(UploadError, match="1 possible leak"):
        cmd_upload(args)
    monkeypatch.delenv(TOKEN_VAR)
    args = argparse.Namespace(
        cast=named_cast(tmp_path / "demo.cast"), server=fake_server.url, force=True, scenario=None
    )
    assert cmd_upload(args) == 0
    out, err = capsys.readouterr()
    assert out == f"{fake_server.url}/a/1\n"
    (warning,) = [line for line in err.splitlines() if "warning:" in line]
    assert warning.startswith("stagecast: warning: ") and TOKEN_VAR in warning
    assert SECRET not in out + err


def test_a_cast_without_the_field_uploads_as_before(
    tmp_path: Path, fake_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_VAR, raising=False)
    result = upload(write_cast(tmp_path / "old.cast"), server=fake_server.url)
    assert result.url and result.unchecked is None
