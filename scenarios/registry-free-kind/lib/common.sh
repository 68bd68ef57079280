# Shared by the registry-free kind scripts: paths, logging, cache keys, a private apt.
# shellcheck shell=bash

HERE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${STAGECAST_KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stagecast/registry-free-kind}"
# A short runtime dir: unix socket paths must stay under 108 bytes.
RUN_DIR="${STAGECAST_KIND_RUN:-/run/stagecast-kind}"
DOCKER_SOCK="$RUN_DIR/docker.sock"
export DOCKER_HOST="unix://$DOCKER_SOCK"

# The versions that go into every artifact; changing one changes its cache key.
K8S_VERSION="v1.20.2"
K8S_SOURCE_SUITE="bookworm"          # Debian 12's kubernetes 1.20.5+really1.20.2 source
KIND_SUITE="trixie"                  # Debian 13 ships kind 0.27.0 as a static binary
NODE_SUITE="bookworm"
NODE_IMAGE_REPO="stagecast.local/kind-node"
TEST_IMAGE="stagecast.local/busybox:1.35"
DEBIAN_MIRROR="${STAGECAST_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { printf 'registry-free-kind: %s\n' "$*" >&2; }
die() { printf 'registry-free-kind: %s\n' "$*" >&2; exit "${2:-2}"; }

# sha256 of the given files and strings: a cache key that names what went into an artifact.
cache_key() {
    local item
    for item in "$@"; do
        if [ -f "$item" ]; then sha256sum "$item" | cut -d' ' -f1; else printf '%s\n' "$item"; fi
    done | sha256sum | cut -c1-16
}

# True when this machine's capability bounding set lacks CAP_SYS_RESOURCE (bit 24): then, and
# only then, containers need the runtime wrapper that leaves it out.
lacks_cap_sys_resource() {
    local bnd
    bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
    (( (16#$bnd & (1 << 24)) == 0 ))
}

# apt with a sources list, lists and archives of its own: the machine's apt stays untouched.
private_apt() {
    local name="$1" sources="$2"; shift 2
    local dir="$CACHE_ROOT/apt/$name"
    mkdir -p "$dir/lists/partial" "$dir/archives/partial"
    printf '%s\n' "$sources" > "$dir/sources.list"
    apt-get -q -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=/dev/null \
        -o Dir::State::Lists="$dir/lists" -o Dir::Cache::archives="$dir/archives" \
        -o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache="" \
        -o APT::Sandbox::User=root "$@"
}

# Unmounts whatever is mounted below DIR (debootstrap's /proc, say), deepest first, so that
# removing DIR can never reach into a live /proc or /sys.
unmount_under() {
    local dir="$1" m
    for m in $(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r); do umount -l "$m" || true; done
}

# Runs "$@" unless the stamp file in DIR exists; writes the stamp on success. A half-built
# artifact is removed first, so a crash never leaves a directory that looks finished.
build_once() {
    local dir="$1" what="$2"; shift 2
    if [ -f "$dir/.done" ]; then log "$what: cached ($dir)"; return 0; fi
    unmount_under "$dir"; rm -rf "$dir"; mkdir -p "$dir"
    local start=$SECONDS
    log "$what: building in $dir"
    if ! "$@" "$dir"; then unmount_under "$dir"; rm -rf "$dir"; die "$what: build failed (see above)" 1; fi
    touch "$dir/.done"
    log "$what: built in $((SECONDS - start)) s"
}
