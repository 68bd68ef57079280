# Kubernetes 1.20.2 built from Debian 12's source package, with Debian's reflect2 1.0.2 in
# place of the vendored 1.0.1 (which makes kubeadm panic when built with Go >= 1.18).
# shellcheck shell=bash

K8S_SOURCES="deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR $K8S_SOURCE_SUITE main"
K8S_COMMANDS=(kubelet kubeadm kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl)
REFLECT2_DIR=/usr/share/gocode/src/github.com/modern-go/reflect2

_fetch_kubernetes_source() {
    local dir="$1"
    private_apt "$K8S_SOURCE_SUITE-src" "$K8S_SOURCES" update >/dev/null
    (cd "$dir" && private_apt "$K8S_SOURCE_SUITE-src" "$K8S_SOURCES" source --download-only kubernetes >/dev/null)
    ls "$dir"/kubernetes_*.orig.tar.gz >/dev/null
}

kubernetes_source_dir() {
    echo "$CACHE_ROOT/kubernetes-source/$(cache_key "$K8S_SOURCE_SUITE" "$(declare -f _fetch_kubernetes_source)")"
}

_build_kubernetes() {
    local out="$1" src tree
    src="$(kubernetes_source_dir)"
    tree="$CACHE_ROOT/work/kubernetes"
    rm -rf "$tree"; mkdir -p "$tree/.go/src/k8s.io"
    tar -xzf "$src"/kubernetes_*.orig.tar.gz -C "$tree" --strip-components=1
    # Debian's rules build GOPATH style, with the tree linked into .go/src/k8s.io.
    ln -s ../../.. "$tree/.go/src/k8s.io/kubernetes"
    rm -rf "$tree/vendor/github.com/modern-go/reflect2"
    cp -rL "$REFLECT2_DIR" "$tree/vendor/github.com/modern-go/reflect2"
    sed -i 's#github.com/modern-go/reflect2 v1.0.1#github.com/modern-go/reflect2 v1.0.2#g' \
        "$tree/vendor/modules.txt" "$tree/go.mod"
    # No .git in the source package: the version comes from a file instead of `git describe`.
    cat > "$tree/version.env" <<VERSION
KUBE_GIT_COMMIT='faecb196815e248d3ecfb03c680a4507229c2a56'
KUBE_GIT_TREE_STATE='clean'
KUBE_GIT_VERSION='$K8S_VERSION'
KUBE_GIT_MAJOR='1'
KUBE_GIT_MINOR='20'
VERSION
    local what=""
    for cmd in "${K8S_COMMANDS[@]}"; do what+="cmd/$cmd "; done
    (cd "$tree" && env GOPATH="$tree/.go" GOCACHE="$CACHE_ROOT/gocache" CGO_ENABLED=0 \
        GOFLAGS=-mod=vendor KUBE_GIT_VERSION_FILE="$tree/version.env" HOME="$tree" \
        make WHAT="$what" >&2)
    mkdir -p "$out/bin"
    for cmd in "${K8S_COMMANDS[@]}"; do install -m 0755 "$tree/_output/bin/$cmd" "$out/bin/$cmd"; done
    # pause, the sandbox image's only program, from the same source tree.
    gcc -Os -static -DVERSION=3.2 -o "$out/bin/pause" "$tree/build/pause/linux/pause.c"
    rm -rf "$tree"
    "$out/bin/kubeadm" version -o short >&2
}

kubernetes_dir() {
    echo "$CACHE_ROOT/kubernetes/$(cache_key "$K8S_VERSION" "$K8S_SOURCE_SUITE" \
        "$(dpkg-query -W -f='${Version}' golang-go golang-github-modern-go-reflect2-dev)" \
        "${K8S_COMMANDS[*]}" "$(declare -f _build_kubernetes)")"
}

build_kubernetes() {
    build_once "$(kubernetes_source_dir)" "Kubernetes source package" _fetch_kubernetes_source
    build_once "$(kubernetes_dir)" "Kubernetes $K8S_VERSION" _build_kubernetes
}
