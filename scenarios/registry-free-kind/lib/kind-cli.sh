# kind 0.27 from Debian 13's binary package: a static Go binary, fetched with a private apt.
# shellcheck shell=bash

KIND_SOURCES="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR $KIND_SUITE main"
KIND_PACKAGE_VERSION="0.27.0-*"

_build_kind_cli() {
    local out="$1" tmp
    tmp="$(mktemp -d)"
    private_apt "$KIND_SUITE" "$KIND_SOURCES" update >/dev/null
    (cd "$tmp" && private_apt "$KIND_SUITE" "$KIND_SOURCES" download "kind=$KIND_PACKAGE_VERSION" >/dev/null)
    dpkg-deb -x "$tmp"/kind_*.deb "$tmp/x"
    install -m 0755 "$tmp/x/usr/bin/kind" "$out/kind"
    rm -rf "$tmp"
    "$out/kind" version >&2
}

kind_cli_dir() {
    echo "$CACHE_ROOT/kind-cli/$(cache_key "$KIND_SUITE" "$KIND_PACKAGE_VERSION" "$(declare -f _build_kind_cli)")"
}

build_kind_cli() { build_once "$(kind_cli_dir)" "kind CLI" _build_kind_cli; }
