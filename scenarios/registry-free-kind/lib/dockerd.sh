# A Docker daemon of the project's own: data root in the cache (so built images survive),
# exec root, pid file and socket under $RUN_DIR. No iptables rules and no docker0 bridge:
# kind's nodes talk over kind's own bridge network, and nothing else is needed from the host.
# shellcheck shell=bash

DOCKER_DATA="$CACHE_ROOT/docker"
DOCKER_PIDFILE="$RUN_DIR/dockerd.pid"
DOCKER_LOG="$RUN_DIR/dockerd.log"

dockerd_running() {
    [ -f "$DOCKER_PIDFILE" ] && kill -0 "$(cat "$DOCKER_PIDFILE")" 2>/dev/null
}

docker_start() {
    if dockerd_running; then return 0; fi
    # A daemon that died left its run dir: what it ran goes first, then the dir.
    if [ -d "$RUN_DIR" ]; then docker_stop; fi
    command -v dockerd >/dev/null || die "dockerd is not installed: apt-get install docker.io"
    mkdir -p "$RUN_DIR" "$DOCKER_DATA"
    # Which cgroup directories docker will add, so that docker_stop removes only those.
    : > "$RUN_DIR/cgroups-before"
    for d in /sys/fs/cgroup/*/docker; do [ -d "$d" ] && echo "$d" >> "$RUN_DIR/cgroups-before"; done
    # kind bind-mounts /lib/modules into its nodes, and docker makes the directory if the
    # host has none (a kernel without loadable modules): remember to take it away again.
    [ -e /lib/modules ] || : > "$RUN_DIR/no-lib-modules"
    # Docker's network bridges (br-<id>) outlive a daemon that dies: note the ones already here.
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 > "$RUN_DIR/links-before" || true
    local args=(--data-root "$DOCKER_DATA" --exec-root "$RUN_DIR/exec" --pidfile "$DOCKER_PIDFILE"
                -H "$DOCKER_HOST" --iptables=false --ip-masq=false --bridge=none
                --storage-driver=overlay2 --log-level=warn)
    if lacks_cap_sys_resource; then
        log "this machine's capability bounding set lacks CAP_SYS_RESOURCE: containers run through runc-without-sys-resource"
        # A copy of its own: the daemon outlives a checkout that moves or changes.
        install -m 0755 "$HERE_DIR/runc-without-sys-resource" "$RUN_DIR/runc-without-sys-resource"
        args+=(--add-runtime "stagecast-runc=$RUN_DIR/runc-without-sys-resource"
               --default-runtime stagecast-runc)
    fi
    # The daemon outlives this script: it must not inherit its open files (a caller's flock
    # on one would be held for as long as dockerd runs).
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd="${fd##*/}"; [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec setsid dockerd "${args[@]}" >"$DOCKER_LOG" 2>&1 < /dev/null
    ) &
    local i
    for i in $(seq 1 60); do
        if docker version >/dev/null 2>&1; then return 0; fi
        if ! kill -0 $! 2>/dev/null; then
            tail -5 "$DOCKER_LOG" >&2; die "dockerd exited at start (log: $DOCKER_LOG)" 1
        fi
        sleep 0.5
    done
    die "dockerd did not answer on $DOCKER_SOCK within 30 s (log: $DOCKER_LOG)" 1
}

# After a daemon that died (killed, say), its containerd, shims and containers live on: stop
# them all. Only ours: the containers named in our data root, the shims on our socket.
kill_leftovers() {
    pkill -f "containerd --config $RUN_DIR/exec/" 2>/dev/null || true
    pkill -9 -f "containerd-shim-runc-v2 .*-address $RUN_DIR/" 2>/dev/null || true
    local id procs round
    for round in 1 2 3; do
        procs=""
        for id in $(ls "$DOCKER_DATA/containers" 2>/dev/null); do
            # A stopped container has no cgroups: find fails, and that is fine.
            procs+=" $(find /sys/fs/cgroup/*/docker/"$id" -name cgroup.procs -exec cat {} + 2>/dev/null || true)"
        done
        [ -n "${procs// /}" ] || break
        kill -9 $procs 2>/dev/null || true
        sleep 1
    done
}

docker_stop() {
    if dockerd_running; then
        local pid; pid="$(cat "$DOCKER_PIDFILE")"
        kill "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    kill_leftovers
    local m
    for m in $(findmnt -rn -o TARGET | grep -E "^($RUN_DIR|$DOCKER_DATA)(/|$)" | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    # Cgroup directories that docker made and left (empty ones only; rmdir refuses others).
    for d in /sys/fs/cgroup/*/docker; do
        [ -d "$d" ] || continue
        grep -qx "$d" "$RUN_DIR/cgroups-before" 2>/dev/null && continue
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    if [ -f "$RUN_DIR/no-lib-modules" ]; then rmdir /lib/modules 2>/dev/null || true; fi
    local link
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^br-[0-9a-f]{12}$'); do
        [ -f "$RUN_DIR/links-before" ] || break
        grep -qx "$link" "$RUN_DIR/links-before" || ip link delete "$link" 2>/dev/null || true
    done
    # A namespace mount of a container still dying can hold the run dir for a moment.
    for _ in 1 2 3 4 5; do
        unmount_under "$RUN_DIR"
        rm -rf "$RUN_DIR" 2>/dev/null && return 0
        sleep 1
    done
    log "could not remove $RUN_DIR (still busy): the next start cleans it up"
}
