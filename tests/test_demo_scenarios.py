"""The talk's demos as kind scenarios: they lint, their support files under scenarios/kind/
hang together, and every upstream version is pinned, once, in scenarios/kind/versions.env.

The demos themselves need docker and kind (the kind-demos GitHub workflow runs them); these
tests need neither.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from recorder.scenario.loader import LoadedScenario, load_scenario
from recorder.scenario.model import Step

SCENARIOS = ROOT / "scenarios"
KIND = SCENARIOS / "kind"
VERSIONS = KIND / "versions.env"
DEMOS = ["demo-1.1", "demo-1.2", "demo-2", "demo-2-ovsdb-mon"]
KIND_CONFIGS = {
    "demo-1-cluster.yml": ["control-plane", "worker"],
    "demo-2-cluster.yml": ["control-plane", "worker", "worker", "worker"],
}
HELM_VALUES = {"demo-2-ovnk-values.yml"}
# The one documented place where a moving tag is named on purpose: the sed that swaps the
# `:latest` image of whereabouts' release manifest for the pinned release's own tag.
ALLOWED_MOVING = {("demo-2.yaml", "s|whereabouts:latest|whereabouts:$WHEREABOUTS_VERSION|")}


def pins() -> dict[str, str]:
    """versions.env as NAME -> value, `$OTHER` references expanded."""
    values: dict[str, str] = {}
    for line in VERSIONS.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(\S+)", line)
        assert match, f"versions.env: not NAME=value: {line!r}"
        name, value = match.groups()
        # NAME=${NAME:-value}: a default that a profile may set in the environment.
        default = re.fullmatch(r"\$\{([A-Z][A-Z0-9_]*):-(\S+)\}", value)
        if default:
            assert default.group(1) == name, f"versions.env: {line!r} defaults another name"
            value = default.group(2)
        values[name] = re.sub(r"\$([A-Z][A-Z0-9_]*)", lambda m: values[m.group(1)], value)
    return values


def demo(name: str) -> LoadedScenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")


def all_steps(loaded: LoadedScenario) -> list[Step]:
    s = loaded.scenario
    return [*s.setup, *s.steps, *s.teardown]


def commands(loaded: LoadedScenario) -> str:
    return "\n".join(step.run or "" for step in all_steps(loaded))


def yml_files() -> list[Path]:
    return sorted(KIND.glob("*.yml"))


def manifest_files() -> list[Path]:
    return [p for p in yml_files() if p.name not in KIND_CONFIGS and p.name not in HELM_VALUES]


def envsubst(text: str, values: dict[str, str]) -> str:
    """What `envsubst` does with these files: $NAME and ${NAME} from the environment."""
    return re.sub(
        r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))",
        lambda m: values.get(m.group(1) or m.group(2), ""),
        text,
    )


# -- the scenarios ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DEMOS)
def test_demo_scenario_lints(name: str) -> None:
    loaded = demo(name)
    assert loaded.scenario.steps
    assert loaded.scenario.cluster is not None


@pytest.mark.parametrize("name", DEMOS)
def test_demo_has_masks_preflight_budget_and_requires(name: str) -> None:
    s = demo(name).scenario
    assert s.masks, "masks: the volatile values of this demo"
    assert s.preflight is not None and s.preflight.container_runtime
    assert s.budget and s.budget > 0
    assert {"docker", "kind", "kubectl"} <= set(s.requires)


@pytest.mark.parametrize("name", DEMOS)
def test_demo_sources_the_pins_first(name: str) -> None:
    setup = demo(name).scenario.setup
    assert setup and setup[0].run == "set -a && source kind/versions.env && set +a"


@pytest.mark.parametrize("name", DEMOS)
def test_cluster_image_is_the_pinned_node_image(name: str) -> None:
    cluster = demo(name).scenario.cluster
    assert cluster is not None
    assert cluster.name == "kind"  # the talk's node names: kind-worker, kind-worker2...
    assert cluster.image == pins()["KIND_NODE_IMAGE"]
    assert (SCENARIOS / cluster.config).name in KIND_CONFIGS


@pytest.mark.parametrize(
    ("name", "base"), [("demo-1.2", "demo-1.1"), ("demo-2-ovsdb-mon", "demo-2")]
)
def test_builds_on_an_existing_scenario_on_the_same_cluster(name: str, base: str) -> None:
    loaded = demo(name)
    spec = loaded.scenario.builds_on
    assert spec is not None and spec.unless
    target = SCENARIOS / spec.scenario
    assert target.is_file() and target.stem == base
    mine, theirs = loaded.scenario.cluster, load_scenario(target).scenario.cluster
    assert mine is not None and theirs is not None
    assert (mine.name, mine.config, mine.image) == (theirs.name, theirs.config, theirs.image)
    assert mine.reuse and mine.create == "fixture"  # reuse what the base left


def test_demo_1_1_worker_ready_while_control_plane_is_not() -> None:
    checks = [
        (c.name, c.condition, c.status)
        for step in demo("demo-1.1").scenario.steps
        if step.expect
        for c in step.expect.kube
        if c.kind == "Node"
    ]
    assert ("kind-worker", "Ready", "True") in checks
    assert ("kind-control-plane", "Ready", "False") in checks


def test_demo_1_2_expects_the_missing_bridge_plugin() -> None:
    steps = demo("demo-1.2").scenario.steps
    describe = next(s for s in steps if s.run == "kubectl describe pod alpine-sleeper")
    assert describe.retry is not None
    assert 'failed to find plugin "bridge" in path [/opt/cni/bin]' in describe.retry.until.contains
    assert "modprobe br_netfilter" in (steps[[s.marker for s in steps].index("br_netfilter")].run)
    assert "br_netfilter" in demo("demo-1.2").scenario.preflight.modules


def test_demo_2_pods_have_three_networks_in_their_cidrs() -> None:
    statuses = [
        c.network_status
        for step in demo("demo-2").scenario.steps
        if step.expect
        for c in step.expect.kube
        if c.network_status is not None and c.name == "samplepod1"
    ]
    assert statuses, "samplepod1's network-status is checked"
    status = statuses[0]
    assert status.interfaces == ["eth0", "eth1", "eth2"]
    assert status.cidrs == {
        "eth0": "10.244.0.0/16",
        "eth1": "192.168.1.0/24",
        "eth2": "10.245.0.0/16",
    }


def test_demo_2_traps_inotify_and_multus_memory() -> None:
    s = demo("demo-2").scenario
    assert s.preflight.inotify_watches >= 524288 and s.preflight.inotify_instances >= 512
    text = commands(demo("demo-2"))
    assert "set resources daemonset/kube-multus-ds -c kube-multus --limits=memory=" in text
    assert "docker network rm kind-nodes-eth1-lan kind-nodes-eth2-lan" in text  # teardown


def test_ovsdb_mon_drives_the_monitor_and_exits() -> None:
    steps = demo("demo-2-ovsdb-mon").scenario.steps
    live = next(s for s in steps if s.keys)
    waits = [k.wait for k in live.keys if not isinstance(k, str) and k.wait]
    assert waits[0] == "OVSDB Monitoring Shell"
    assert any("ADD" in w for w in waits) and any("DELETE" in w for w in waits)
    assert live.keys[-1] == "exit\r"
    assert "&" in live.run and "ovsdb-mon.nb -auto" in live.run  # the change runs in the bg
    assert any(s.run == "ovsdb-mon.nb list Logical_Switch Name" for s in steps)


def test_differs_explains_the_pinned_and_fixed_steps() -> None:
    for name in DEMOS:
        for step in demo(name).scenario.steps:
            run = step.run or ""
            if re.search(r"\$[A-Z_]+_(VERSION|IMAGE|REF)\b|\$ALPINE_IMAGE", run) and (
                "kubectl run" in run or "http" in run
            ):
                assert step.differs, f"{name}: {run[:60]!r} differs from the recording: say why"
    sb = next(s for s in demo("demo-2").scenario.steps if "find Datapath_Binding" in (s.run or ""))
    assert sb.differs and "list" in sb.differs


# -- the pins -----------------------------------------------------------------------------------


def test_versions_env_pins_the_talk_versions() -> None:
    values = pins()
    assert values["KIND_NODE_IMAGE"] == "kindest/node:v1.31.0"
    assert re.fullmatch(r"v0\.2[6-9]\.\d+", values["FLANNEL_VERSION"])  # has the br_netfilter check
    assert values["CNI_PLUGINS_VERSION"] == "v1.4.0"
    assert values["OVNK_CHART_VERSION"] == "1.0.0"
    assert (
        values["OVNK_IMAGE"]
        == "ghcr.io/flavio-fernandes/ovn-kubernetes/ovn-kube-fedora:release-1.0"
    )
    assert re.fullmatch(r"[0-9a-f]{40}", values["OVSDB_MON_REF"])
    assert re.fullmatch(r"alpine:\d+\.\d+", values["ALPINE_IMAGE"])
    for name in ("MULTUS_VERSION", "WHEREABOUTS_VERSION", "NETWORK_POLICY_API_VERSION"):
        assert re.fullmatch(r"v\d+\.\d+\.\d+", values[name]), name


def test_every_pin_is_used() -> None:
    text = "\n".join(commands(demo(n)) for n in DEMOS)
    text += "\n".join(p.read_text() for p in manifest_files())
    for name in pins():
        used = re.search(rf"\${name}\b|\${{{name}}}", text)
        # a pin spelled from others (OVNK_IMAGE from _REPO and _TAG) counts through them too
        assert used, f"{name} is pinned in versions.env but used nowhere"


def test_pins_are_written_once() -> None:
    """No scenario or manifest repeats a pinned value: they all read versions.env."""
    values = pins()
    files = [SCENARIOS / f"{n}.yaml" for n in DEMOS] + yml_files()
    for path in files:
        text = "\n".join(
            line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
        )
        for name, value in values.items():
            if name == "KIND_NODE_IMAGE":
                continue  # cluster.image must spell it (checked equal above)
            if not re.search(r"[a-z]", value):
                continue  # a bare number such as 1.0.0 also reads as a cniVersion
            assert value not in text, f"{path.name} repeats {name}={value}: use ${name}"


def test_typed_pin_names_exist() -> None:
    """A typo in `$FLANNEL_VERSON` would type an empty version on stage."""
    values = pins()
    for name in DEMOS:
        for ref in re.findall(r"\$([A-Z][A-Z0-9_]*)", commands(demo(name))):
            if ref.endswith(("_VERSION", "_IMAGE", "_REF", "_TAG", "_REPO")):
                assert ref in values, f"{name}: ${ref} is not in versions.env"


def test_no_moving_tags_or_branches() -> None:
    moving = re.compile(
        r"https?://\S*(/latest/|/master/|/main/|refs/heads/)\S*"  # URLs on a branch or latest
        r"|[\w./-]+:latest\b"  # an image on :latest
        r"|(?:--image[= ]|image:\s*)(?!\$)[\w./-]+(?=\s|$)(?<!:\S)"  # an image with no tag
    )
    found = []
    for path in sorted(SCENARIOS.rglob("*")):
        if not path.is_file() or path.suffix == ".json" or path.suffix == ".cast":
            continue
        for match in moving.finditer(path.read_text(errors="replace")):
            line = path.read_text().count("\n", 0, match.start()) + 1
            context = path.read_text().splitlines()[line - 1]
            allowed = any(
                path.name == f and snippet in context and snippet in match.group(0) + context
                for f, snippet in ALLOWED_MOVING
            )
            if not allowed:
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert found == []
    # The exceptions are where they are said to be (drop them here when they go).
    for file, snippet in ALLOWED_MOVING:
        assert snippet in (SCENARIOS / file).read_text()


def test_no_image_without_a_tag_in_typed_commands() -> None:
    for name in DEMOS:
        for ref in re.findall(r"--image[= ](\S+)", commands(demo(name))):
            assert ref.startswith("$"), f"{name}: --image {ref}: use a pin from versions.env"


# -- the support files --------------------------------------------------------------------------


def test_support_files_are_yml_so_scenario_globs_skip_them() -> None:
    """Other tests treat every scenarios/**/*.yaml as a scenario."""
    assert not list(KIND.rglob("*.yaml"))
    assert not list((KIND.parent / "registry-free-kind").rglob("*.yaml"))
    assert yml_files()


@pytest.mark.parametrize("path", yml_files(), ids=lambda p: p.name)
def test_yaml_parses(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_documents_are_kubernetes_objects(path: Path) -> None:
    rendered = envsubst(path.read_text(), pins())
    for doc in (d for d in yaml.safe_load_all(rendered) if d is not None):
        assert doc.get("apiVersion") and doc.get("kind"), path.name
        assert doc.get("metadata", {}).get("name"), path.name


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifests_read_only_pins_from_the_environment(path: Path) -> None:
    """`envsubst` fills every $NAME: a name that is not a pin would become empty."""
    text = path.read_text()
    names = re.findall(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)", text)
    for braced, bare in names:
        assert (braced or bare) in pins(), f"{path.name}: ${braced or bare} is not a pin"
    rendered = envsubst(text, pins())
    images = re.findall(r"image:\s*(\S+)", rendered)
    assert all(image in pins().values() for image in images), images


@pytest.mark.parametrize(("name", "roles"), KIND_CONFIGS.items())
def test_kind_configs(name: str, roles: list[str]) -> None:
    config = yaml.safe_load((KIND / name).read_text())
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert [n["role"] for n in config["nodes"]] == roles
    assert config["networking"]["disableDefaultCNI"] is True
    if name == "demo-2-cluster.yml":
        assert config["networking"]["kubeProxyMode"] == "none"
        values = yaml.safe_load((KIND / "demo-2-ovnk-values.yml").read_text())
        assert values["podNetwork"].startswith(config["networking"]["podSubnet"])
        assert values["serviceNetwork"] == config["networking"]["serviceSubnet"]
        assert values["global"]["enableMultiNetwork"] is True


def test_nads_and_sample_pods() -> None:
    nads = {
        d["metadata"]["name"]: d for d in yaml.safe_load_all((KIND / "demo-2-nads.yml").read_text())
    }
    macvlan = json.loads(nads["whereabouts-conf"]["spec"]["config"])
    assert (macvlan["type"], macvlan["master"]) == ("macvlan", "eth1")
    assert macvlan["ipam"] == {
        "type": "whereabouts",
        "range": "192.168.1.0/24",
        "range_start": "192.168.1.200",
    }
    ovn = json.loads(nads["ovn-again-conf"]["spec"]["config"])
    assert (ovn["type"], ovn["topology"], ovn["subnets"], ovn["mtu"]) == (
        "ovn-k8s-cni-overlay",
        "layer3",
        "10.245.0.0/16/24",
        1300,
    )
    assert ovn["netAttachDefName"] == "default/ovn-again-conf"
    pods = list(yaml.safe_load_all(envsubst((KIND / "demo-2-samplepods.yml").read_text(), pins())))
    assert [p["spec"]["nodeSelector"]["kubernetes.io/hostname"] for p in pods] == [
        "kind-worker",
        "kind-worker2",
        "kind-worker3",
    ]
    for pod in pods:
        networks = pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"]
        assert networks == "whereabouts-conf@eth1,ovn-again-conf@eth2"
        assert set(networks.replace("@", ",").split(",")) >= set(nads)


def test_dummy_plugin_type_is_its_installed_name() -> None:
    config = json.loads((KIND / "99-dummy.conf").read_text())
    assert config["type"] == "dummy"
    plugin = KIND / "dummy-cni"
    assert plugin.read_text().startswith("#!/bin/bash\n")
    assert os.access(plugin, os.X_OK)
    installs = re.findall(
        r"docker cp kind/dummy-cni kind-worker:/opt/cni/bin/(\S+)", commands(demo("demo-1.1"))
    )
    assert installs == [config["type"]]
    assert "mv -v {/tmp,/etc/cni/net.d}/99-dummy.conf" in commands(demo("demo-1.1"))
    unless = demo("demo-1.2").scenario.builds_on.unless
    assert f"/opt/cni/bin/{config['type']}" in unless and "/etc/cni/net.d/99-dummy.conf" in unless
