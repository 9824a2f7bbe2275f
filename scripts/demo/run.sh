#!/usr/bin/env bash
# `make demo`: a canary upgrade of the sample mesh on the simulated cluster, from Istio 1.27.3 to 1.28.1 (with
# REAL=1: on the real cluster of tests/realcluster, from 1.28.2 to 1.29.1), with
# playbooks/upgrade.yml (restarts in waves, finalize), showing the mesh before and after.
set -euo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=scripts/demo/lib.sh
source scripts/demo/lib.sh

start_sim
adopt_source
unpin_worker
remove_debug_pod
audit "before the upgrade: Istio ${SOURCE_VERSION} (${SOURCE_REVISION})"
run_playbook upgrade -e istio_upgrade_finalize=true
audit "after the upgrade to Istio ${TARGET_VERSION} (${TARGET_REVISION}), finalized"
