#!/usr/bin/env bash
# Shared by scripts/demo/run.sh and rollback.sh (sourced, from the repository root): start the simulated cluster
# (or, with REAL=1, the real one of tests/realcluster) with the sample mesh on the source version, prepare the
# target's manifest, audit, run the collection's playbooks, and stop the cluster on exit.
root=$PWD
python="$root/.venv/bin/python"
export PATH="$root/.venv/bin:$root/.tools/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
if [ "${REAL:-}" = 1 ]; then
    # the two Istio releases the real cluster runs (tests/realcluster/build.py)
    CLUSTER="real cluster"
    SOURCE_VERSION=1.28.2
    TARGET_VERSION=1.29.1
else
    CLUSTER="simulated cluster"
    SOURCE_VERSION=1.27.3
    TARGET_VERSION=1.28.1
fi
SOURCE_REVISION=${SOURCE_VERSION//./-}
TARGET_REVISION=${TARGET_VERSION//./-}
workdir=$(mktemp -d "${TMPDIR:-/tmp}/meshops-demo.XXXXXX")
sim_pid=""

cleanup() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT

# start_sim: the sample mesh on the source version and the target's control plane manifest, on the simulated
# cluster or (REAL=1) the real one
start_sim() {
    local wait_steps=300 command
    echo "==> starting the ${CLUSTER} with the sample mesh on Istio ${SOURCE_VERSION} (revision ${SOURCE_REVISION})"
    if [ "${REAL:-}" = 1 ]; then
        if ! command -v go >/dev/null 2>&1; then
            echo "demo: REAL=1 needs Go: the real cluster is built from Go modules (install Go 1.25 or newer)" >&2
            exit 1
        fi
        "$python" -m tests.realcluster --render-istiod "$SOURCE_VERSION" >"$workdir/source.yaml"
        "$python" -m tests.realcluster --render-istiod "$TARGET_VERSION" >"$workdir/target.yaml"
        command=("$python" -m tests.realcluster --kubeconfig "$workdir/kubeconfig" --state-dir "$workdir/realcluster"
                 --istio "$SOURCE_VERSION" --mesh --rollout-delay 0.05)
        wait_steps=12000  # a first start builds the cluster from Go modules
    else
        "$python" -m tests.simcluster.fixtures mesh --revision "$SOURCE_REVISION" --version "$SOURCE_VERSION" >"$workdir/mesh.yaml"
        "$python" -m tests.simcluster.fixtures controlplane --revision "$SOURCE_REVISION" --version "$SOURCE_VERSION" >"$workdir/source.yaml"
        "$python" -m tests.simcluster.fixtures controlplane --revision "$TARGET_REVISION" --version "$TARGET_VERSION" >"$workdir/target.yaml"
        command=("$python" -m tests.simcluster --kubeconfig "$workdir/kubeconfig" --load "$workdir/mesh.yaml" --rollout-delay 0.05)
    fi
    "${command[@]}" >"$workdir/sim.log" 2>&1 &
    sim_pid=$!
    for _ in $(seq 1 "$wait_steps"); do
        if grep -q '^ready https://' "$workdir/sim.log"; then
            echo "    $(grep -m1 '^ready https://' "$workdir/sim.log"); kubeconfig $workdir/kubeconfig"
            return 0
        fi
        if ! kill -0 "$sim_pid" 2>/dev/null; then
            echo "demo: the ${CLUSTER} exited before it was ready; its output:" >&2
            cat "$workdir/sim.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "demo: the ${CLUSTER} was not ready after $((wait_steps / 10)) s; its output:" >&2
    cat "$workdir/sim.log" >&2
    exit 1
}

# adopt_source: the sample mesh's source control plane has no installer's record; finalize removes the source
# with the installer that recorded it, so apply the same objects with the manifest installer first
adopt_source() {
    echo "==> adopt the source control plane ${SOURCE_REVISION} with the manifest installer (scripts/demo/adopt.yml)"
    ansible-playbook -i localhost, scripts/demo/adopt.yml -e "demo_kubeconfig=$workdir/kubeconfig" \
        -e "demo_revision=$SOURCE_REVISION" -e "demo_version=$SOURCE_VERSION" -e "demo_manifest=$workdir/source.yaml" \
        >"$workdir/adopt.log" 2>&1 || { cat "$workdir/adopt.log" >&2; exit 1; }
}

# unpin_worker: batch/worker pins the source revision with a label on its pods, which no upgrade moves (finalize
# refuses while such pods run); pin its namespace instead, as the operator would before upgrading
unpin_worker() {
    echo "==> kubectl: pin batch/worker by its namespace instead of a label on its pods"
    kubectl --kubeconfig "$workdir/kubeconfig" label namespace batch "istio.io/rev=${SOURCE_REVISION}"
    kubectl --kubeconfig "$workdir/kubeconfig" -n batch patch deployment worker --type merge \
        -p '{"spec":{"template":{"metadata":{"labels":{"istio.io/rev":null}}}}}'
    kubectl --kubeconfig "$workdir/kubeconfig" -n batch rollout status deployment worker --timeout 60s
}

# remove_debug_pod: the sample mesh's bare pod tagged/debug, which no restart rebuilds; the prod-stable tag injected
# it (on both clusters), and verify and finalize refuse while it runs the source's sidecar, naming it, so the operator
# removes it first (preflight lists it among the pods no restart rebuilds)
remove_debug_pod() {
    echo "==> kubectl: remove the bare pod tagged/debug, which no restart rebuilds"
    kubectl --kubeconfig "$workdir/kubeconfig" -n tagged delete pod debug --wait=true
}

# audit TITLE: print revisions, tags and every namespace's pods per sidecar revision and version
audit() {
    ansible-playbook -i localhost, scripts/demo/audit.yml -e "demo_kubeconfig=$workdir/kubeconfig" \
        -e "demo_output=$workdir/audit.json" >"$workdir/audit.log" 2>&1 || { cat "$workdir/audit.log" >&2; exit 1; }
    echo
    "$python" scripts/demo/summary.py "$1" "$workdir/audit.json"
}

# run_playbook NAME ARGS...: ansible-playbook playbooks/NAME.yml with the demo's variables
run_playbook() {
    local name=$1
    shift
    cat >"$workdir/vars.json" <<JSON
{"istio_target_version": "${TARGET_VERSION}", "istio_installer": "manifest", "istio_manifests": ["$workdir/target.yaml"],
 "istio_k8s_auth": {"kubeconfig": "$workdir/kubeconfig"},
 "istio_gateways": [{"name": "istio-ingressgateway", "namespace": "istio-ingress"}],
 "istio_restart_policy": "waves", "istio_restart_batch_size": 3, "istio_restart_wait_timeout": 60,
 "istio_gateway_wait_timeout": 60, "ansible_python_interpreter": "$python"}
JSON
    echo "==> ansible-playbook playbooks/${name}.yml $*"
    local began=$SECONDS
    ansible-playbook "playbooks/${name}.yml" -e "@$workdir/vars.json" "$@"
    echo "==> playbooks/${name}.yml took $((SECONDS - began)) s on the ${CLUSTER}"
}
