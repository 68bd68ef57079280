"""Secret forms: a declared secret printed in each of its usual encodings, recorded for real.

    .venv/bin/python benchmarks/secret_forms.py [--json] [--only FORM]

For each form, a one-step scenario declares `TOKEN: {from_env: SECRET_FORMS_BENCH_TOKEN,
secret: true}` and prints it in that form with the tools people use (`base64`, `xxd -p`,
`python3 -c urllib.parse.quote…`, `json.dumps`, a `kubectl get secret -o yaml`-shaped
document): the typed command holds only `$TOKEN`, so what is at stake is the output. The
secret has a space, a slash, a plus and non-ASCII letters, so that its URL and JSON forms
differ from the value. Each form is recorded twice with `stagecast record --cps 1000` into a
temporary directory:

1. as declared (`secret: true`):
   - *cast written*: exit 0 and the verified cast is there;
   - *redacted*: the step's output line in the cast is `[REDACTED]`;
   - *no trace*: neither the file's bytes nor its output stream (events decoded, escape
     sequences removed) hold any concrete encoding of the secret: the value, its base64 and
     base64url (whole, and the stable middle at each of the three alignments), hex in both
     cases, its URL encodings (`%20`/`+`, upper/lower hex) and JSON escapes (`\\u` or UTF-8).
     Checked here with plain substring search, not with stagecast's patterns (and the same
     check must see the secret in the unredacted cast of step 2, else the row fails);
   - *scan clean*: `stagecast scan CAST` with the variable set exits 0 (the cast names the
     secret by fingerprint, so `scan` looks for it);
2. with redaction disabled (`secret: false`: the recorder neither redacts nor knows it), then
   the header given the fingerprint the recorder writes for a declared secret
   (`stagecast.secrets`), as a recorder whose redaction failed would leave it:
   - *scan finds it*: `stagecast scan CAST` exits 1 with a `secret` line;
   - *upload refused*: `stagecast upload CAST --server http://127.0.0.1:9` exits 2 with
     `refusing to upload` (the leak scan runs before any network: nothing listens there).

Prints one row per form and a verdict line; `--json` prints the rows as JSON. Exit status 0
whatever the rows say (a measurement), 1 when a run could not be made at all.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recorder.cast.provenance import SecretFingerprint  # noqa: E402
from recorder.shell.secret_forms import base64_middles  # noqa: E402

VAR = "SECRET_FORMS_BENCH_TOKEN"
SECRET = "Bench s3cr3t/Ünï+çødé-42"
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]")
PY = "python3 -c"
# (form, the step's command): $TOKEN is the declared secret in the shell's environment.
FORMS: list[tuple[str, str]] = [
    ("literal", 'printf "%s\\n" "$TOKEN"'),
    ("base64", 'printf "%s" "$TOKEN" | base64'),
    ("base64, offset 1", 'printf "a%s!" "$TOKEN" | base64'),
    ("base64, offset 2", 'printf "ab%s!!" "$TOKEN" | base64'),
    ("base64, Basic auth", 'printf "admin:%s" "$TOKEN" | base64'),
    ("base64, wrapped at 76", 'printf "%050d%s" 0 "$TOKEN" | base64'),
    ("base64url", 'printf "%s" "$TOKEN" | basenc --base64url'),
    ("base64url, offset 1", 'printf "a%s" "$TOKEN" | basenc --base64url'),
    ("hex (xxd -p)", 'printf "%s" "$TOKEN" | xxd -p'),
    ("HEX (xxd -p -u)", 'printf "%s" "$TOKEN" | xxd -p -u'),
    (
        "url %20",
        f'{PY} \'import os,urllib.parse as u;print(u.quote(os.environ["TOKEN"],safe=""))\'',
    ),
    ("url +", f"{PY} 'import os,urllib.parse as u;print(u.quote_plus(os.environ[\"TOKEN\"]))'"),
    (
        "url, lower-case hex",
        f"{PY} 'import os,re,urllib.parse as u;"
        'print(re.sub("%..",lambda m:m[0].lower(),u.quote(os.environ["TOKEN"],safe="")))\'',
    ),
    ("json \\u escapes", f"{PY} 'import os,json;print(json.dumps(os.environ[\"TOKEN\"]))'"),
    (
        "json UTF-8",
        f"{PY} 'import os,json;print(json.dumps(os.environ[\"TOKEN\"],ensure_ascii=False))'",
    ),
    (
        "kubectl get secret -o yaml",
        'printf "apiVersion: v1\\ndata:\\n  password: %s\\nkind: Secret\\n"'
        ' "$(printf "%s" "$TOKEN" | base64 -w0)"',
    ),
]


@dataclass
class Row:
    form: str
    cast_written: bool
    redacted: bool
    no_trace: bool
    scan_clean: bool
    scan_finds_unredacted: bool
    upload_refused_unredacted: bool
    note: str = ""

    @property
    def ok(self) -> bool:
        return all(
            (
                self.cast_written,
                self.redacted,
                self.no_trace,
                self.scan_clean,
                self.scan_finds_unredacted,
                self.upload_refused_unredacted,
            )
        )


def traces(value: str) -> dict[str, str]:
    """Every concrete encoding of `value` a reader of the cast could decode it from."""
    data = value.encode()
    quoted = urllib.parse.quote(value, safe="")
    found = {
        "literal": value,
        "base64": base64.b64encode(data).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(data).decode().rstrip("="),
        "hex": data.hex(),
        "HEX": data.hex().upper(),
        "url": quoted,
        "url-lower": re.sub("%..", lambda m: m[0].lower(), quoted),
        "url-plus": urllib.parse.quote_plus(value),
        "json": json.dumps(value)[1:-1],
        "json-utf8": json.dumps(value, ensure_ascii=False)[1:-1],
    }
    for k, middle in enumerate(base64_middles(value)):
        found[f"base64-middle-{k}"] = middle
    for k, middle in enumerate(base64_middles(value, b"-_")):
        found[f"base64url-middle-{k}"] = middle
    return found


def scenario(command: str, secret: bool) -> str:
    return (
        f"title: secret forms\nterminal: {{cols: 100, rows: 30}}\nprompt: 'demo$ '\n"
        f"env:\n  TOKEN: {{from_env: {VAR}, secret: {'true' if secret else 'false'}}}\n"
        f"steps:\n  - run: {json.dumps(command)}\n"
    )


def stagecast(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stagecast", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def stream(cast: Path) -> str:
    """The cast's output events, decoded and joined, escape sequences removed."""
    lines = cast.read_text(encoding="utf-8").splitlines()[1:]
    text = "".join(e[2] for e in map(json.loads, lines) if e[1] == "o")
    return ANSI.sub("", text)


def without(cast: Path, texts: dict[str, str]) -> list[str]:
    raw, out = cast.read_text(encoding="utf-8"), stream(cast)
    joined = out.replace("\r\n", "")  # a wrapped base64 or hex is one string again
    return [name for name, t in texts.items() if t in raw or t in out or t in joined]


def name_the_secret(cast: Path) -> None:
    """Give an unredacted cast the fingerprint `record` writes for a declared secret."""
    lines = cast.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["stagecast"]["secrets"] = [asdict(SecretFingerprint.of(VAR, SECRET))]
    cast.write_text("\n".join([json.dumps(header, ensure_ascii=False), *lines[1:]]) + "\n")


def measure(form: str, command: str, tmp: Path, env: dict[str, str]) -> Row:
    folder = tmp / re.sub(r"\W+", "-", form).strip("-")
    folder.mkdir()
    notes = []
    # 1. declared: redacted, no trace, scan clean
    yaml = folder / "declared.yaml"
    yaml.write_text(scenario(command, secret=True), encoding="utf-8")
    cast = folder / "declared.cast"
    done = stagecast("record", str(yaml), "-o", str(cast), "--cps", "1000", "--quiet", env=env)
    written = done.returncode == 0 and cast.exists()
    if not written:
        notes.append(f"record exit {done.returncode}: {(done.stdout + done.stderr).strip()[:160]}")
    left = without(cast, traces(SECRET)) if cast.exists() else ["no cast"]
    if cast.exists() and left:
        notes.append(f"left in the cast: {', '.join(left)}")
    redacted = cast.exists() and "[REDACTED]" in stream(cast)
    scan = stagecast("scan", str(cast), env=env) if cast.exists() else None
    # 2. redaction disabled: the scan and upload must catch it from the provenance alone
    yaml_off = folder / "undeclared.yaml"
    yaml_off.write_text(scenario(command, secret=False), encoding="utf-8")
    leaky = folder / "undeclared.cast"
    off = stagecast("record", str(yaml_off), "-o", str(leaky), "--cps", "1000", "--quiet", env=env)
    finds = refused = False
    if off.returncode == 0 and leaky.exists():
        if not without(leaky, traces(SECRET)):  # the check above must see an unredacted one
            notes.append("the trace check does not see the unredacted secret: it proves nothing")
            left = left or ["(unverifiable)"]
        name_the_secret(leaky)
        found = stagecast("scan", str(leaky), env=env)
        finds = found.returncode == 1 and ": secret: " in found.stdout
        up = stagecast("upload", str(leaky), "--server", "http://127.0.0.1:9", env=env)
        refused = up.returncode == 2 and "refusing to upload" in up.stderr
        if not refused:
            notes.append(f"upload exit {up.returncode}: {up.stderr.strip()[:160]}")
    else:
        notes.append(f"unredacted record exit {off.returncode}")
    return Row(
        form=form,
        cast_written=written,
        redacted=redacted,
        no_trace=cast.exists() and not left,
        scan_clean=scan is not None and scan.returncode == 0,
        scan_finds_unredacted=finds,
        upload_refused_unredacted=refused,
        note="; ".join(notes),
    )


def mark(ok: bool) -> str:
    return "yes" if ok else "NO"


def table(rows: list[Row]) -> str:
    head = (
        "| form | cast written | redacted | no trace in the file | scan clean "
        "| scan finds it (redaction off) | upload refused (redaction off) |"
    )
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        cells = (
            r.cast_written,
            r.redacted,
            r.no_trace,
            r.scan_clean,
            r.scan_finds_unredacted,
            r.upload_refused_unredacted,
        )
        lines.append(f"| {r.form} | " + " | ".join(mark(c) for c in cells) + " |")
    for r in rows:
        if r.note:
            lines.append(f"\n{r.form}: {r.note}")
    good = sum(r.ok for r in rows)
    lines.append(f"\n{good}/{len(rows)} forms: {'all OK' if good == len(rows) else 'NOT ALL OK'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="the rows as JSON")
    parser.add_argument("--only", metavar="FORM", help="the forms whose name contains FORM")
    args = parser.parse_args()
    forms = [(f, c) for f, c in FORMS if args.only is None or args.only in f]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stagecast-secret-forms-") as name:
        tmp = Path(name)
        home = tmp / "asciinema"
        home.mkdir()
        (home / "install-id").write_text("00000000-0000-4000-8000-000000000000\n")
        env = {**os.environ, VAR: SECRET, "ASCIINEMA_CONFIG_HOME": str(home)}
        env.pop("ASCIINEMA_API_URL", None)
        try:
            rows = [measure(form, command, tmp, env) for form, command in forms]
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"secret_forms: could not run: {exc}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps([{**asdict(r), "ok": r.ok} for r in rows], indent=2))
    else:
        print(table(rows))
        print(f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
