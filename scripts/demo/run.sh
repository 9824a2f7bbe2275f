#!/usr/bin/env bash
# `make demo`: start the simulated cluster with the sample mesh on a temporary kubeconfig, run
# mesh_info against it with ansible-playbook, print a summary, and stop the cluster on exit.
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$PWD
python="$root/.venv/bin/python"
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

echo "==> starting the simulated cluster with the sample mesh"
"$python" -m tests.simcluster.fixtures mesh >"$workdir/mesh.yaml"
"$python" -m tests.simcluster --kubeconfig "$workdir/kubeconfig" --load "$workdir/mesh.yaml" >"$workdir/sim.log" 2>&1 &
sim_pid=$!

for _ in $(seq 1 300); do
    if grep -q '^ready https://' "$workdir/sim.log"; then
        break
    fi
    if ! kill -0 "$sim_pid" 2>/dev/null; then
        echo "demo: the simulated cluster exited before it was ready; its output:" >&2
        cat "$workdir/sim.log" >&2
        exit 1
    fi
    sleep 0.1
done
if ! grep -q '^ready https://' "$workdir/sim.log"; then
    echo "demo: the simulated cluster was not ready after 30 s; its output:" >&2
    cat "$workdir/sim.log" >&2
    exit 1
fi
echo "    $(grep -m1 '^ready https://' "$workdir/sim.log")"

echo "==> ansible-playbook scripts/demo/mesh_info.yml"
ANSIBLE_COLLECTIONS_PATH="$root/.build/collections" ANSIBLE_LOCALHOST_WARNING=false \
    "$root/.venv/bin/ansible-playbook" -i localhost, scripts/demo/mesh_info.yml \
    -e "demo_kubeconfig=$workdir/kubeconfig" -e "demo_output=$workdir/mesh_info.json"

echo "==> summary"
"$python" scripts/demo/summary.py "$workdir/mesh_info.json"
