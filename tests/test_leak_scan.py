"""The leak scan finds planted secrets of every kind, and nothing in ordinary output.

Planted values are built at run time (base64 of made-up PEM text, made-up JWTs), so this file
itself holds no credential-looking literal for other scanners to trip on.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from conftest import RECORDINGS, ROOT, run_cli, scenario_text
from recorder.cast.leak_scan import Leak, mask_leaks, scan_cast, scan_events, scan_files
from recorder.run.report import summary_line

SECRET = "hunter2-s3cret"
PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIC5zCCAc+gAwIBAgIBADANBgkqhkiG9w0BAQsFADAV\n"
PEM_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx3+q2bQ1Zk\n"
B64_CERT = base64.b64encode(PEM_CERT.encode()).decode()
B64_KEY = base64.b64encode(PEM_KEY.encode()).decode()
JWT = ".".join(
    base64.urlsafe_b64encode(part.encode()).decode().rstrip("=")
    for part in ('{"alg":"RS256","kid":"k1"}', '{"sub":"system:sa:default"}', "signature-bytes")
)
OPAQUE = "abcdef.0123456789abcdef"  # the shape of a kubeadm bootstrap token
HEADER = {"version": 2, "width": 80, "height": 24}
# Every value a planted leak carries; no excerpt may show any of them.
SENSITIVE = (SECRET, B64_CERT[20:], B64_KEY[20:], JWT[10:], OPAQUE, "h0st.example", "/home/ada")


def events_of(*chunks: str, code: str = "o") -> list[tuple[float, str, str]]:
    return [(round(0.5 * i, 3), code, chunk) for i, chunk in enumerate(chunks, 1)]


def scan_output(*chunks: str, secrets: tuple[str, ...] = ()) -> list[Leak]:
    return scan_events(HEADER, events_of(*chunks), secrets)


def kinds(leaks: list[Leak]) -> list[str]:
    return [leak.kind for leak in leaks]


def assert_masked(leaks: list[Leak]) -> None:
    for leak in leaks:
        line = str(leak)
        assert "\n" not in line and "\r" not in line and "\x1b" not in line, line
        for value in SENSITIVE:
            assert value not in line, f"{line!r} shows {value!r}"


# --- planted leaks, in events --------------------------------------------------------------

PLANTED = [
    pytest.param("secret", f"demo$ echo $PASS\r\n{SECRET}\r\n", id="declared-secret"),
    pytest.param(
        "kubeconfig-token",
        f"users:\r\n- name: u\r\n  user:\r\n    token: {OPAQUE}\r\n",
        id="kubeconfig-token",
    ),
    pytest.param("kubeconfig-token", f'{{"token": "{JWT}"}}\r\n', id="json-token"),
    pytest.param(
        "kubeconfig-token",
        f"kubeadm join 10.0.0.1:6443 --token {OPAQUE}\r\n",
        id="kubeadm-token-flag",
    ),
    pytest.param("client-key", f"    client-key-data: {B64_KEY}\r\n", id="client-key-data"),
    pytest.param(
        "certificate", f"    client-certificate-data: {B64_CERT}\r\n", id="client-certificate-data"
    ),
    pytest.param(
        "certificate",
        f"    certificate-authority-data: {B64_CERT}\r\n",
        id="certificate-authority-data",
    ),
    pytest.param("certificate", f"  ca.crt: {B64_CERT}\r\n", id="base64-pem-certificate"),
    pytest.param("client-key", f"  tls.key: {B64_KEY}\r\n", id="base64-pem-key"),
    pytest.param("bearer-token", f"> Authorization: Bearer {JWT}\r\n", id="authorization-header"),
    pytest.param("bearer-token", f"using bearer {OPAQUE} now\r\n", id="bearer-lowercase"),
    pytest.param("bearer-token", f"ID: {JWT}\r\n", id="bare-jwt"),
    pytest.param("private-key", PEM_KEY.replace("\n", "\r\n"), id="rsa-private-key"),
    pytest.param(
        "private-key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1r\r\n",
        id="openssh-private-key",
    ),
    pytest.param("osc-7", "\x1b]7;file://h0st.example/home/ada\x07demo$ ", id="osc-7-bel"),
    pytest.param("osc-7", "\x1b]7;file://h0st.example/home/ada\x1b\\demo$ ", id="osc-7-st"),
    pytest.param("osc-1337", "\x1b]1337;RemoteHost=ada@h0st.example\x07", id="osc-1337-host"),
    pytest.param("osc-1337", "\x1b]1337;CurrentDir=/home/ada\x1b\\", id="osc-1337-cwd"),
]


@pytest.mark.parametrize(("kind", "output"), PLANTED)
def test_planted_leak_in_output_is_found_and_masked(kind: str, output: str) -> None:
    leaks = scan_output("demo$ ", output, secrets=(SECRET,))
    assert kinds(leaks) == [kind], [str(leak) for leak in leaks]
    assert leaks[0].where == "event 2 (1.000s)"
    assert_masked(leaks)


@pytest.mark.parametrize(("kind", "output"), PLANTED)
def test_planted_leak_in_the_header_is_found(kind: str, output: str) -> None:
    header = {**HEADER, "stagecast": {"steps": [{"marker": "ok"}, {"marker": output}]}}
    leaks = scan_events(header, [], (SECRET,))
    assert kinds(leaks) == [kind]
    assert leaks[0].where == "header.stagecast.steps.1.marker"
    assert_masked(leaks)


def test_header_title_env_and_keys_are_scanned() -> None:
    header = {
        **HEADER,
        "title": f"Demo {SECRET}",
        "env": {"TERM": "xterm", "KUBE_TOKEN": f"token: {OPAQUE}", SECRET: "x"},
    }
    leaks = scan_events(header, [], (SECRET,))
    assert [(leak.where, leak.kind) for leak in leaks] == [
        ("header.title", "secret"),
        ("header.env.KUBE_TOKEN", "kubeconfig-token"),
        (f"header.env.{SECRET}", "secret"),
    ]
    assert str(leaks[0]) == "header.title: secret: Demo ***"


def test_leak_str_is_one_line_where_kind_excerpt() -> None:
    leak = Leak("secret", "event 3 (1.500s)", "echo ***")
    assert str(leak) == "event 3 (1.500s): secret: echo ***"


def test_excerpt_shows_the_line_before_the_match() -> None:
    (leak,) = scan_output(f"$ grep token ~/.kube/config\r\n    token: {OPAQUE}\r\n")
    assert leak.excerpt == "    token: ***"
    (leak,) = scan_output("x" * 50 + SECRET, secrets=(SECRET,))
    assert leak.excerpt == "…" + "x" * 20 + "***"


def test_input_events_and_markers_are_scanned() -> None:
    typed = [(0.1 * i, "i", ch) for i, ch in enumerate(SECRET, 1)]
    marker = [(9.0, "m", f"Log in with {SECRET}")]
    leaks = scan_events(HEADER, typed + marker, (SECRET,))
    assert [(leak.kind, leak.where) for leak in leaks] == [
        ("secret", "event 1 (0.100s)"),
        ("secret", f"event {len(SECRET) + 1} (9.000s)"),
    ]


def test_resize_events_are_not_output() -> None:
    events = [(0.1, "o", SECRET[:5]), (0.2, "r", "80x24"), (0.3, "o", SECRET[5:])]
    assert kinds(scan_events(HEADER, events, (SECRET,))) == ["secret"]


# --- split and disguised -------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunks",
    [
        ["demo$ echo $PASS\r\nhunter2", "-s3cret\r\n"],
        ["demo$ echo $PASS\r\nhun", "ter2-s3", "cret\r\n"],
    ],
    ids=["two-chunks", "three-chunks"],
)
def test_secret_split_across_chunks_is_found_where_it_starts(chunks: list[str]) -> None:
    leaks = scan_output("demo$ ", *chunks, secrets=(SECRET,))
    assert [(leak.kind, leak.where) for leak in leaks] == [("secret", "event 2 (1.000s)")]
    assert_masked(leaks)


def test_secret_with_colour_codes_between_its_characters() -> None:
    leaks = scan_output("pw: hun\x1b[31mter\x1b[0m2", secrets=("hunter2",))
    assert [(leak.kind, leak.excerpt) for leak in leaks] == [("secret", "pw: ***")]


def test_secret_split_by_chunks_and_escape_codes_together() -> None:
    leaks = scan_output(
        "pw: hun\x1b[1", "m\x1b]8;;http://x\x07ter", "\x1b(B\x1b[m2-s3cret", secrets=(SECRET,)
    )
    assert [(leak.kind, leak.where) for leak in leaks] == [("secret", "event 1 (0.500s)")]


def test_private_key_split_and_coloured() -> None:
    leaks = scan_output("-----BEGIN \x1b[1mRSA", " PRIVATE\x1b[0m KEY-----\r\n")
    assert kinds(leaks) == ["private-key"]
    assert leaks[0].excerpt == "-----BEGIN RSA PRIVATE KEY-----"


def test_bearer_token_split_across_chunks() -> None:
    leaks = scan_output("Authorization: Bea", f"rer {JWT[:12]}", f"{JWT[12:]}\r\n")
    assert [(leak.kind, leak.where) for leak in leaks] == [("bearer-token", "event 1 (0.500s)")]


def test_osc_7_split_across_chunks() -> None:
    leaks = scan_output("\x1b]7;file://h0st.ex", "ample/home/ada\x07demo$ ")
    assert kinds(leaks) == ["osc-7"]
    assert leaks[0].excerpt == "\\x1b]7;file://***"


def test_each_occurrence_is_reported_once() -> None:
    leaks = scan_output(f"{SECRET} and \x1b[1m{SECRET}\x1b[0m", secrets=(SECRET, SECRET[:6]))
    assert [(leak.kind, leak.excerpt) for leak in leaks] == [
        ("secret", "***"),
        ("secret", "*** and ***"),
    ]


def test_short_and_empty_declared_values_are_ignored() -> None:
    assert scan_output("a b c abc ok", secrets=("", "a", "abc")) == []


# --- negatives: ordinary output ----------------------------------------------------------

ORDINARY = [
    pytest.param(
        "NAME                  TYPE                                  DATA   AGE\r\n"
        "default-token-x7z9k   kubernetes.io/service-account-token   3      10d\r\n"
        "sh.helm.release.v1    helm.sh/release.v1                    1      2d\r\n",
        id="kubectl-get-secrets",
    ),
    pytest.param(
        "Name:                default\r\nMountable secrets:   default-token-x7z9k\r\n"
        "Tokens:              default-token-x7z9k\r\nEvents:              <none>\r\n",
        id="kubectl-describe-sa",
    ),
    pytest.param(
        "Create a token for the service account, then use the token.\r\n", id="the-word-token"
    ),
    pytest.param(
        "demo$ TOKEN=$(kubectl create token default --duration=10m)\r\n",
        id="token-command-substitution",
    ),
    pytest.param(
        'demo$ curl -H "Authorization: Bearer $TOKEN" https://10.96.0.1/api\r\n',
        id="bearer-variable",
    ),
    pytest.param(
        'demo$ curl -H "Authorization: Bearer ${TOKEN}" https://10.96.0.1/api\r\n',
        id="bearer-braced-variable",
    ),
    pytest.param(
        "    token: [REDACTED]\r\nAuthorization: Bearer [REDACTED]\r\n", id="redacted-placeholders"
    ),
    pytest.param(
        "    certificate-authority-data: DATA+OMITTED\r\n    client-key-data: REDACTED\r\n"
        "    token: REDACTED\r\n",
        id="kubectl-config-view",
    ),
    pytest.param(
        "coredns-5dd5756b68-7xk2q   1/1   Running   0   5m\r\n"
        "nginx-7854ff8877-abcde     1/1   Running   0   5m\r\n"
        "  namespace: ZGVmYXVsdA==\r\n  pod-template-hash: 5dd5756b68\r\n",
        id="pod-hashes-and-short-base64",
    ),
    pytest.param(
        "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\r\n",
        id="token-file-path",
    ),
    pytest.param("  token: /var/run/secrets/tokens/vault-token\r\n", id="token-path"),
    pytest.param(
        "    serviceAccountToken: {expirationSeconds: 3607, path: token}\r\n"
        "TokenExpirationSeconds: 3607\r\n",
        id="projected-token-volume",
    ),
    pytest.param("demo$ grep -r LS0tLS1CRUdJTi ~/.kube\r\n", id="grep-for-the-pem-prefix"),
    pytest.param(
        "-----BEGIN CERTIFICATE REQUEST-----\r\n-----BEGIN PUBLIC KEY-----\r\n",
        id="public-pem-headers",
    ),
    pytest.param("bearer token authentication is enabled\r\n", id="the-words-bearer-token"),
    pytest.param(
        "\x1b]133;A\x07demo$ \x1b]133;B\x07ls\r\n\x1b]133;D;0\x07", id="osc-133-prompt-marks"
    ),
    pytest.param(
        "\x1b]0;ada@host: ~\x07\x1b]8;;file:///tmp/x\x07x\x1b]8;;\x07",
        id="window-title-and-hyperlink",
    ),
    pytest.param("\x1b]1337;SetMark\x07demo$ ", id="osc-1337-setmark"),
    pytest.param(
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\r\n",
        id="image-digest",
    ),
]


@pytest.mark.parametrize("output", ORDINARY)
def test_ordinary_output_is_not_a_leak(output: str) -> None:
    assert scan_output("demo$ ", output, secrets=(SECRET,)) == []


# --- real casts ----------------------------------------------------------------------------

REAL_CASTS = sorted(p for p in (ROOT / "casts").glob("*.cast") if ".failed." not in p.name)


@pytest.mark.parametrize("cast", REAL_CASTS, ids=[p.name for p in REAL_CASTS])
def test_committed_casts_scan_clean(cast: Path) -> None:
    leaks = scan_cast(cast)
    assert leaks == [], "\n".join(map(str, leaks))


@pytest.mark.skipif(not RECORDINGS.is_dir(), reason="the speaker's recordings are not here")
def test_the_speakers_real_recordings_scan_clean() -> None:
    """Hand-made recordings of kubectl, vim, tmux and kind: a wide false-positive check."""
    leaks, errors = scan_files(sorted(RECORDINGS.glob("*.cast")))
    assert errors == []
    assert leaks == [], "\n".join(f"{p.name}: {leak}" for p, leak in leaks)


# --- files ---------------------------------------------------------------------------------


def write_v2(path: Path, header: dict, events: list[tuple[float, str, str]]) -> Path:
    lines = [json.dumps(header)] + [json.dumps(list(e)) for e in events]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_scan_cast_reads_v2(tmp_path: Path) -> None:
    cast = write_v2(
        tmp_path / "a.cast",
        {**HEADER, "env": {"TERM": "xterm", "TOKEN": SECRET}},
        events_of("demo$ ", "pw: hun", "ter2-s3cret\r\n"),
    )
    leaks = scan_cast(cast, (SECRET,))
    assert [str(leak) for leak in leaks] == [
        "header.env.TOKEN: secret: ***",
        "event 2 (1.000s): secret: demo$ pw: ***",
    ]


def test_scan_cast_reads_v1_with_its_whole_header(tmp_path: Path) -> None:
    cast = tmp_path / "v1.cast"
    cast.write_text(
        json.dumps(
            {
                "version": 1,
                "width": 80,
                "height": 24,
                "command": f"login --password {SECRET}",
                "stdout": [[0.5, "demo$ "], [0.25, "\x1b]7;file://h0st.example/home/ada\x07"]],
            }
        )
    )
    leaks = scan_cast(cast, (SECRET,))
    assert [(leak.where, leak.kind) for leak in leaks] == [
        ("header.command", "secret"),
        ("event 2 (0.750s)", "osc-7"),
    ]


UNREADABLE = {
    "missing.cast": None,
    "empty.cast": "",
    "garbage.cast": "\x00\x01 not json at all\n",
    "v4.cast": '{"version": 4, "term": {"cols": 80, "rows": 24}}\n[0.1, "o", "x"]\n',
    "v3-no-term.cast": '{"version": 3}\n[0.1, "o", "x"]\n',
    "bad-event.cast": '{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "x"]\n{"oops"\n',
    "bad-shape.cast": '{"version": 2, "width": 80, "height": 24}\n[0.1, "o"]\n',
    "v1-no-stdout.cast": '{"version": 1, "width": 80, "height": 24}',
    "v1-bad-frame.cast": '{"version": 1, "stdout": [[0.1, "x"], ["soon", "y"]]}',
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_file_is_one_line_value_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if UNREADABLE[name] is not None:
        path.write_text(UNREADABLE[name])
    with pytest.raises(ValueError) as caught:
        scan_cast(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message, message


def test_binary_file_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.cast"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        scan_cast(path)


def test_scan_files_reports_leaks_by_file_and_errors_by_line(tmp_path: Path) -> None:
    clean = write_v2(tmp_path / "clean.cast", HEADER, events_of("demo$ ls\r\n"))
    leaky = write_v2(tmp_path / "leaky.cast", HEADER, events_of(f"token: {OPAQUE}\r\n"))
    leaks, errors = scan_files([clean, leaky, tmp_path / "missing.cast", tmp_path])
    assert [(path.name, leak.kind) for path, leak in leaks] == [("leaky.cast", "kubeconfig-token")]
    assert len(errors) == 2 and all("\n" not in e for e in errors)
    assert errors[0].startswith(str(tmp_path / "missing.cast"))


# --- record: the scan before publishing ----------------------------------------------------

LEAKY = 'steps:\n  - run: echo "-----BEGIN RSA PRIV""ATE KEY-----"\n'


def test_record_refuses_to_publish_a_leaky_cast(run_record, tmp_path: Path) -> None:
    cast = tmp_path / "casts" / "demo.cast"
    assert run_record("steps:\n  - run: echo good\n", cast=cast).passed
    before = cast.read_bytes()
    failed_cast, report = cast.with_name("demo.failed.cast"), cast.with_name("demo.failed.txt")
    failed_cast.write_text("an older failed attempt\n")

    result = run_record(LEAKY, cast=cast)

    assert not result.passed
    assert result.error is not None
    assert result.error.startswith("leak scan: event ")
    assert ": private-key: -----BEGIN RSA PRIVATE KEY-----" in result.error
    assert cast.read_bytes() == before, "the previous verified cast stays untouched"
    assert not failed_cast.exists(), "a failed cast would contain the leak"
    assert result.cast_path is None and result.failed_cast_path is None
    assert result.report_path == report
    text = report.read_text()
    assert "private-key: -----BEGIN RSA PRIVATE KEY-----" in text
    assert "no failed cast was written" in text
    assert [p.name for p in cast.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_record_leak_scan_counts_the_other_leaks(run_record, tmp_path: Path) -> None:
    body = (
        "steps:\n"
        '  - run: echo "-----BEGIN EC PRIV""ATE KEY-----"\n'
        '  - run: echo "-----BEGIN DSA PRIV""ATE KEY-----"\n'
    )
    result = run_record(body, cast=tmp_path / "x.cast")
    assert not result.passed and not (tmp_path / "x.cast").exists()
    assert result.error is not None and result.error.endswith("(and 1 more)")


def test_record_with_a_redacted_secret_publishes(run_record, tmp_path: Path, monkeypatch) -> None:
    """The recorder's own redaction leaves `[REDACTED]`, which the scan does not flag."""
    monkeypatch.setenv("LEAK_SCAN_TEST_TOKEN", OPAQUE)
    body = (
        "env: {TOKEN: {from_env: LEAK_SCAN_TEST_TOKEN, secret: true}}\n"
        "steps:\n  - run: 'echo \"token: $TOKEN\"'\n"
    )
    cast = tmp_path / "ok.cast"
    result = run_record(body, cast=cast)
    assert result.passed, result.error
    assert OPAQUE not in cast.read_text() and "[REDACTED]" in cast.read_text()
    assert scan_cast(cast, (OPAQUE,)) == []


# --- record: a failed attempt is scanned too -----------------------------------------------

# The failing step prints a kubeconfig token; the typed command splits it, so only the output
# holds it whole.
LEAKY_FAILURE = """\
steps:
  - run: echo ready
  - say: Show the token
    run: 'echo "tok""en: {head}""{tail}"'
    expect: {expect}
"""


def leaky_failure(expect: str) -> str:
    return LEAKY_FAILURE.format(head=OPAQUE[:7], tail=OPAQUE[7:], expect=expect)


def test_mask_leaks_masks_what_the_scan_reports() -> None:
    text = f"user:\n  token: {OPAQUE}\n{SECRET} and Bearer {OPAQUE.upper()}9\nplain\n"
    masked = mask_leaks(text, (SECRET,))
    assert masked == "user:\n  token: ***\n*** and Bearer ***\nplain\n"
    assert mask_leaks("nothing here\n") == "nothing here\n"


def test_record_writes_no_failed_cast_that_leaks(run_record, tmp_path: Path) -> None:
    cast = tmp_path / "casts" / "demo.cast"
    failed_cast, report = cast.with_name("demo.failed.cast"), cast.with_name("demo.failed.txt")
    cast.parent.mkdir()
    failed_cast.write_text("an older failed attempt\n")

    # not_regex quotes what it found: the token, until the leak scan masks it
    result = run_record(leaky_failure(r"{not_regex: 'token: \S+'}"), cast=cast)

    assert not result.passed and result.error is None, "the step's failure is the reason"
    failed = result.first_failure
    assert failed is not None and failed.label == "Show the token"
    assert failed.failures == ["expected output not to match /token: \\S+/, found 'token: ***'"]
    assert not failed_cast.exists(), "neither a leaky failed cast nor an older one"
    assert not cast.exists() and result.failed_cast_path is None and result.cast_path is None
    assert re.fullmatch(
        r"no failed cast written: the leak scan found a kubeconfig-token at event \d+ "
        rf"\(\d+\.\d{{3}}s\); removed the older {re.escape(str(failed_cast))}",
        result.failed_cast_withheld or "",
    ), result.failed_cast_withheld
    assert result.report_path == report
    text = report.read_text()
    assert "token: ***" in text and "no failed cast was written" in text
    assert f"would contain them; removed the older {failed_cast}:" in text
    assert "the verified cast was not published" not in text  # it never would have been
    for said in (text, json.dumps(result.to_dict()), summary_line(result)):
        assert OPAQUE not in said
    assert [p.name for p in cast.parent.iterdir()] == ["demo.failed.txt"]


def test_record_without_an_older_failed_cast_says_nothing_was_removed(
    run_record, tmp_path: Path
) -> None:
    cast = tmp_path / "demo.cast"
    result = run_record(leaky_failure("{contains: nowhere}"), cast=cast)
    assert result.failed_cast_path is None and not cast.with_name("demo.failed.cast").exists()
    assert result.failed_cast_withheld is not None
    assert "removed" not in result.failed_cast_withheld


def test_cli_record_says_in_one_line_why_no_failed_cast(tmp_path: Path) -> None:
    scenario = tmp_path / "demo.yaml"
    scenario.write_text(scenario_text(leaky_failure("{contains: nowhere}")))
    cast = tmp_path / "casts" / "demo.cast"
    cast.parent.mkdir()
    cast.with_name("demo.failed.cast").write_text("an older failed attempt\n")
    done = run_cli("record", str(scenario), "-o", str(cast))
    assert done.returncode == 1, done.stdout + done.stderr
    assert OPAQUE not in done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("FAIL ") and "expected output to contain 'nowhere'" in lines[0]
    withheld = [line for line in lines if "no failed cast written" in line]
    assert len(withheld) == 1
    assert "kubeconfig-token at event " in withheld[0]
    assert withheld[0].endswith(f"; removed the older {cast.with_name('demo.failed.cast')}")
    assert lines[-1] == f"  report: {cast.with_name('demo.failed.txt')}"
    assert not cast.with_name("demo.failed.cast").exists()


def test_a_long_stream_is_scanned_in_windows_and_finds_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows of 1,000 characters with a carry of 200: every secret, wherever it falls
    (across events, across a window's edge), is reported once, as in one whole scan."""
    import random

    from recorder.cast import leak_scan

    secret = "window-s3cr3t-v4lue"
    rng = random.Random(7)
    events, t = [], 0.0
    for n in range(400):
        chunk = "".join(rng.choice("abc xyz\r\n") for _ in range(rng.randint(1, 60)))
        if n % 9 == 0:
            chunk += secret
        events.append((t, "o", chunk))
        t += 0.01
    # A secret cut across two events too.
    events.append((t, "o", "tail " + secret[:7]))
    events.append((t + 0.01, "o", secret[7:] + " end"))
    whole = leak_scan.scan_events({}, events, [secret])
    monkeypatch.setattr(leak_scan, "WINDOW", 1000)
    monkeypatch.setattr(leak_scan, "CARRY", 200)
    windowed = leak_scan.scan_events({}, events, [secret])
    assert len(whole) == 46
    assert [str(leak) for leak in windowed] == [str(leak) for leak in whole]
