#!/bin/bash
# Hidden setup of the ovn-from-zero lab: a one-node OVN deployment in user space, every
# socket, pidfile, database and log under $LAB. Run with LAB and the OVS_*/OVN_* variables
# already exported (the scenario's setup does that). Nothing goes to /var/run/openvswitch.
set -euo pipefail
: "${LAB:?LAB is not set}"
cd "$LAB"

wait_for() {  # wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s
    local tries=$(( $1 * 10 )); shift
    until "$@" >/dev/null 2>&1; do
        tries=$(( tries - 1 ))
        if (( tries <= 0 )); then echo "lab-up: gave up waiting for: $*" >&2; return 1; fi
        sleep 0.1
    done
}

# OVN central: the northbound and southbound databases, and ovn-northd between them.
ovsdb-tool create nb.db /usr/share/ovn/ovn-nb.ovsschema
ovsdb-tool create sb.db /usr/share/ovn/ovn-sb.ovsschema
for db in nb sb; do
    ovsdb-server "$db.db" --remote="punix:$LAB/$db.sock" --pidfile="$LAB/ovsdb-$db.pid" \
        --unixctl="$LAB/ovsdb-$db.ctl" -vconsole:err --log-file="$LAB/ovsdb-$db.log" --detach
done
ovn-nbctl --no-wait init
ovn-sbctl init
ovn-northd --ovnnb-db="$OVN_NB_DB" --ovnsb-db="$OVN_SB_DB" --pidfile="$LAB/ovn-northd.pid" \
    -vconsole:err --log-file="$LAB/ovn-northd.log" --detach

# Open vSwitch: its own database, and ovs-vswitchd with the userspace (netdev) datapath.
ovsdb-tool create conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server conf.db --remote="punix:$LAB/db.sock" --pidfile="$LAB/ovsdb-server.pid" \
    --unixctl="$LAB/ovsdb-server.ctl" -vconsole:err --log-file="$LAB/ovsdb-server.log" --detach
ovs-vsctl --no-wait init
ovs-vswitchd "unix:$LAB/db.sock" --disable-system --pidfile="$LAB/ovs-vswitchd.pid" \
    -vconsole:err --log-file="$LAB/ovs-vswitchd.log" --detach
ovs-vsctl add-br br-int -- set bridge br-int datapath_type=netdev fail-mode=secure \
    other_config:disable-in-band=true

# ovn-controller: this machine becomes chassis lab-node of the OVN deployment.
ovs-vsctl set open . external_ids:system-id=lab-node \
    external_ids:ovn-remote="$OVN_SB_DB" external_ids:ovn-encap-type=geneve \
    external_ids:ovn-encap-ip=127.0.0.1 external_ids:ovn-bridge=br-int \
    external_ids:ovn-bridge-datapath-type=netdev
ovn-controller "unix:$LAB/db.sock" --pidfile="$LAB/ovn-controller.pid" \
    -vconsole:err --log-file="$LAB/ovn-controller.log" --detach

# Ready when the chassis is registered and the whole pipeline answers a sync.
wait_for 10 sh -c 'ovn-sbctl --bare --columns=name list chassis | grep -qx lab-node'
wait_for 10 ovn-appctl -t ovn-northd status
timeout 10 ovn-nbctl --wait=hv sync
