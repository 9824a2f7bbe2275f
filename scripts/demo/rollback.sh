#!/usr/bin/env bash
# `make demo-rollback`: upgrade the sample mesh half-way (control plane, data plane and gateways moved, not
# finalized), then roll back with playbooks/rollback.yml, showing the mesh before, half-way and after.
set -euo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=scripts/demo/lib.sh
source scripts/demo/lib.sh

start_sim
audit "before the upgrade: Istio ${SOURCE_VERSION} (${SOURCE_REVISION})"
run_playbook upgrade --tags control_plane,data_plane,gateways
audit "half-way: ${TARGET_REVISION} installed, namespaces and gateways moved and restarted, not finalized"
run_playbook rollback
audit "after the rollback: back on ${SOURCE_REVISION}, ${TARGET_REVISION} removed"
