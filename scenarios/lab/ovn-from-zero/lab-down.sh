#!/bin/bash
# Hidden teardown of the ovn-from-zero lab: stops every daemon lab-up.sh started, removes
# the userspace datapath's taps, the pods' veths and namespaces, and the lab directory.
# Tolerates a partial setup and always runs to the end. With no argument (the shell that
# ran setup is gone, and $LAB with it), it cleans every lab whose owner shell has exited.
set -u
PREFIX=scovn-

pid_in() {  # pid_in PIDFILE LAB: the pid, if it is a live process of this lab
    local pid state
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    # A stale pidfile must not hit an unrelated process: its command line names the lab.
    grep -qF "$2" "/proc/$pid/cmdline" 2>/dev/null || return 1
    read -r _ _ state _ 2>/dev/null <"/proc/$pid/stat" || return 1
    [[ $state != Z ]] || return 1
    echo "$pid"
}

running() {  # running PID: alive and not a zombie waiting to be reaped
    local state
    read -r _ _ state _ 2>/dev/null <"/proc/$1/stat" || return 1
    [[ $state != Z ]]
}

wait_gone() {  # wait_gone SECONDS PID...: true once none runs
    local tries=$(( $1 * 10 )) pid left; shift
    while (( tries-- > 0 )); do
        left=0
        for pid in "$@"; do running "$pid" && left=1; done
        (( left )) || return 0
        sleep 0.1
    done
    return 1
}

stop_lab() {  # stop_lab DIR
    local lab=$1 pid file pids=()
    [[ -d $lab && $lab == /tmp/stagecast-lab-ovn.* ]] || return 0
    # ovs-vswitchd first, told to remove its datapath: the netdev datapath's taps (br-int,
    # ovs-netdev) are persistent and would outlive a plain kill.
    if pid=$(pid_in "$lab/ovs-vswitchd.pid" "$lab"); then
        timeout 5 ovs-appctl -t "$lab/ovs-vswitchd.$pid.ctl" exit --cleanup >/dev/null 2>&1
        wait_gone 5 "$pid" || kill "$pid" 2>/dev/null
    fi
    for file in "$lab"/*.pid; do
        pid=$(pid_in "$file" "$lab") && kill "$pid" 2>/dev/null && pids+=("$pid")
    done
    if ! wait_gone 5 "${pids[@]}"; then
        for pid in "${pids[@]}"; do running "$pid" && kill -9 "$pid" 2>/dev/null; done
        wait_gone 2 "${pids[@]}"
    fi
    rm -rf "$lab"
}

if [[ -n ${1:-} ]]; then
    stop_lab "$1"
else
    for lab in /tmp/stagecast-lab-ovn.*; do
        owner=$(cat "$lab/shell.owner" 2>/dev/null)
        [[ -n $owner ]] && running "$owner" && continue
        stop_lab "$lab"
    done
fi

# The datapath's taps, if ovs-vswitchd died without removing them (none runs any more).
if ! pgrep -x ovs-vswitchd >/dev/null; then
    for link in br-int ovs-netdev; do
        ip -d link show "$link" 2>/dev/null | grep -q 'tun type tap' && ip link del "$link"
    done
fi

# The pods: the veths' host ends (in br-int until ovs-vswitchd stopped), then namespaces,
# which takes the pod ends with them.
for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    [[ $link == "$PREFIX"* ]] && ip link del "$link" 2>/dev/null
done
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $ns == "$PREFIX"* ]] && ip netns del "$ns" 2>/dev/null
done
exit 0
