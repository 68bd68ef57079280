# Root filesystems from Debian packages (debootstrap), and the docker images made from them:
# the kind node image, the control-plane, etcd and pause images kubeadm 1.20 asks for, and a
# busybox test-pod image. Nothing is pulled from a container registry.
# shellcheck shell=bash

NODE_PACKAGES=systemd,systemd-sysv,dbus,iproute2,iptables,ca-certificates,procps,kmod,containerd,runc,containernetworking-plugins,conntrack,socat,ethtool,ebtables,mount,util-linux,jq,bash
# etcd and kube-proxy are dynamically linked or call iptables: they get a small Debian root.
BASE_PACKAGES=iptables,conntrack,etcd-server,ca-certificates
BOOKWORM_SOURCES="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR $NODE_SUITE main"
# The images kubeadm v1.20.2 expects (`kubeadm config images list`), CoreDNS aside: Debian
# has no CoreDNS, so its pods stay Pending.
K8S_REGISTRY="k8s.gcr.io"
ETCD_TAG="3.4.13-0"
PAUSE_TAG="3.2"

_debootstrap() {
    local out="$1" packages="$2"
    command -v debootstrap >/dev/null || die "debootstrap is not installed: apt-get install debootstrap"
    debootstrap --variant=minbase --include="$packages" "$NODE_SUITE" "$out/rootfs" "$DEBIAN_MIRROR" \
        > "$out/debootstrap.log" 2>&1 || { tail -20 "$out/debootstrap.log" >&2; return 1; }
    rm -rf "$out/rootfs"/var/cache/apt/archives/*.deb "$out/rootfs"/var/lib/apt/lists/*
}

_build_base_rootfs() { _debootstrap "$1" "$BASE_PACKAGES"; }
_build_node_rootfs() { _debootstrap "$1" "$NODE_PACKAGES"; }

_build_busybox_rootfs() {
    local out="$1" tmp
    tmp="$(mktemp -d)"
    private_apt "$NODE_SUITE" "$BOOKWORM_SOURCES" update >/dev/null
    (cd "$tmp" && private_apt "$NODE_SUITE" "$BOOKWORM_SOURCES" download busybox-static >/dev/null)
    dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
    mkdir -p "$out/rootfs/bin" "$out/rootfs/tmp" "$out/rootfs/etc" "$out/rootfs/root"
    install -m 0755 "$tmp/x/bin/busybox" "$out/rootfs/bin/busybox"
    local applet
    for applet in $("$out/rootfs/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$out/rootfs/bin/$applet"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' > "$out/rootfs/etc/passwd"
    echo 'root:x:0:' > "$out/rootfs/etc/group"
    rm -rf "$tmp"
}

base_rootfs_dir() { echo "$CACHE_ROOT/rootfs/base-$(cache_key "$NODE_SUITE" "$BASE_PACKAGES" "$(declare -f _debootstrap)")"; }
node_rootfs_dir() { echo "$CACHE_ROOT/rootfs/node-$(cache_key "$NODE_SUITE" "$NODE_PACKAGES" "$(declare -f _debootstrap)")"; }
busybox_rootfs_dir() { echo "$CACHE_ROOT/rootfs/busybox-$(cache_key "$NODE_SUITE" "$(declare -f _build_busybox_rootfs)")"; }

build_rootfs() {
    build_once "$(base_rootfs_dir)" "base root filesystem" _build_base_rootfs
    build_once "$(node_rootfs_dir)" "node root filesystem" _build_node_rootfs
    build_once "$(busybox_rootfs_dir)" "busybox root filesystem" _build_busybox_rootfs
}

# The node image's key covers everything that goes into it: rootfs, binaries, node files.
node_image_key() {
    cache_key "$(base_rootfs_dir)" "$(node_rootfs_dir)" "$(kubernetes_dir)" "$(declare -f _build_pod_images _build_node_image _import_dir)" \
        "$HERE_DIR"/node/* "$HERE_DIR/runc-without-sys-resource"
}
node_image() { echo "$NODE_IMAGE_REPO:$K8S_VERSION-$(node_image_key)"; }

# docker build with a Dockerfile on stdin; its noise shown only when it fails.
_docker_build() {
    local tag="$1" context="$2" dockerfile="$3" err
    err="$(mktemp)"
    if ! printf '%s\n' "$dockerfile" | docker build -q -t "$tag" -f - "$context" >/dev/null 2>"$err"; then
        cat "$err" >&2; rm -f "$err"; return 1
    fi
    rm -f "$err"
}

_image_has_key() {
    [ "$(docker image inspect -f '{{ index .Config.Labels "stagecast.key" }}' "$1" 2>/dev/null)" = "$2" ]
}

# docker import of a directory, with a label holding the key it was made from.
_import_dir() {
    local dir="$1" tag="$2" key="$3"; shift 3
    tar -C "$dir" -c . | docker import -c "LABEL stagecast.key=$key" "$@" - "$tag" >/dev/null
}

_build_pod_images() {
    local key="$1" bin ctx
    bin="$(kubernetes_dir)/bin"
    _import_dir "$(base_rootfs_dir)/rootfs" stagecast.local/debian-base:bookworm "$key" \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    docker tag stagecast.local/debian-base:bookworm "$K8S_REGISTRY/etcd:$ETCD_TAG"
    ctx="$(mktemp -d)"
    for cmd in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
        cp "$bin/$cmd" "$ctx/"
        _docker_build "$K8S_REGISTRY/$cmd:$K8S_VERSION" "$ctx" \
            "$(printf 'FROM stagecast.local/debian-base:bookworm\nCOPY %s /usr/local/bin/%s\nLABEL stagecast.key=%s' "$cmd" "$cmd" "$key")"
    done
    rm -rf "$ctx"; ctx="$(mktemp -d)"
    install -D -m 0755 "$bin/pause" "$ctx/pause"
    _import_dir "$ctx" "$K8S_REGISTRY/pause:$PAUSE_TAG" "$key" -c 'ENTRYPOINT ["/pause"]'
    rm -rf "$ctx"
}

_build_node_image() {
    local key="$1" image="$2" bin root ctx
    bin="$(kubernetes_dir)/bin"
    root="$CACHE_ROOT/work/node-rootfs"
    rm -rf "$root"; mkdir -p "$root"
    cp -a "$(node_rootfs_dir)/rootfs/." "$root/"
    install -m 0755 "$bin/kubelet" "$bin/kubeadm" "$bin/kubectl" "$root/usr/bin/"
    # Only these four plugins, as in kind's node images, so demo 1.2's missing "bridge" shows.
    mkdir -p "$root/opt/cni/bin" "$root/etc/cni/net.d" "$root/kind/images"
    for plugin in host-local loopback portmap ptp; do
        install -m 0755 "$root/usr/lib/cni/$plugin" "$root/opt/cni/bin/$plugin"
    done
    echo "$K8S_VERSION" > "$root/kind/version"
    install -D -m 0644 "$HERE_DIR/node/default-cni.yml" "$root/kind/manifests/default-cni.yaml"
    install -m 0755 "$HERE_DIR/node/entrypoint" "$root/usr/local/bin/entrypoint"
    install -m 0755 "$HERE_DIR/runc-without-sys-resource" "$root/usr/local/sbin/runc-without-sys-resource"
    install -m 0644 "$HERE_DIR/node/containerd-config.toml" "$root/etc/containerd/config.toml"
    install -m 0644 "$HERE_DIR/node/kubelet.service" "$root/etc/systemd/system/kubelet.service"
    install -D -m 0644 "$HERE_DIR/node/10-kubeadm.conf" "$root/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
    install -m 0644 "$HERE_DIR/node/kind-import-images.service" "$root/etc/systemd/system/"
    mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
    ln -sf /etc/systemd/system/kubelet.service "$root/etc/systemd/system/multi-user.target.wants/"
    ln -sf /etc/systemd/system/kind-import-images.service "$root/etc/systemd/system/multi-user.target.wants/"
    ln -sf /lib/systemd/system/containerd.service "$root/etc/systemd/system/multi-user.target.wants/"
    # Nothing in the node needs a login or the network's wait-online; a container has no udev.
    rm -f "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"; : > "$root/etc/machine-id"
    docker save "$K8S_REGISTRY/pause:$PAUSE_TAG" "$K8S_REGISTRY/etcd:$ETCD_TAG" \
        "$K8S_REGISTRY/kube-apiserver:$K8S_VERSION" "$K8S_REGISTRY/kube-controller-manager:$K8S_VERSION" \
        "$K8S_REGISTRY/kube-scheduler:$K8S_VERSION" "$K8S_REGISTRY/kube-proxy:$K8S_VERSION" \
        -o "$root/kind/images/kubernetes.tar"
    _import_dir "$root" "$image-rootfs" "$key"
    rm -rf "$root"
    # systemd stops on SIGRTMIN+3, which `docker import` cannot set: a one-line build can.
    ctx="$(mktemp -d)"
    _docker_build "$image" "$ctx" "FROM $image-rootfs
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [\"/usr/local/bin/entrypoint\", \"/sbin/init\"]"
    rm -rf "$ctx"
    docker rmi "$image-rootfs" >/dev/null
}

build_images() {
    local key image start=$SECONDS
    key="$(node_image_key)"; image="$(node_image)"
    if ! _image_has_key "$K8S_REGISTRY/kube-proxy:$K8S_VERSION" "$key"; then
        log "pod images: building"; _build_pod_images "$key"
    fi
    if ! _image_has_key "$image" "$key"; then
        log "node image $image: building"; _build_node_image "$key" "$image"
    fi
    # The stable name the profile uses; the keyed tag says which build it is.
    docker tag "$image" "$NODE_IMAGE_REPO:$K8S_VERSION"
    if ! _image_has_key "$TEST_IMAGE" "$key"; then
        _import_dir "$(busybox_rootfs_dir)/rootfs" "$TEST_IMAGE" "$key" -c 'CMD ["/bin/sh"]'
    fi
    docker image prune -f >/dev/null  # what an older build left untagged
    log "images ready in $((SECONDS - start)) s: $image, $TEST_IMAGE"
}
