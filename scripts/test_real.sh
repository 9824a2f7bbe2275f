#!/usr/bin/env bash
# `make test-real`: the tests on the real cluster of tests/realcluster (the upstream Kubernetes API server and
# controllers, kwok nodes, the real istiod of two Istio releases, all built from Go modules): the pytest tests
# marked real_cluster (tests/real, the fidelity comparison) and the molecule scenarios default and rollback with
# MESHOPS_TEST_CLUSTER=real, once with the manifest installer and once with the helm installer. Needs `make setup`
# and Go.
#
# Without Go it prints one line saying so and exits 77 ("not run"); `make test` shows that in its summary. Under CI
# (CI=true) a missing Go is a failure: CI's machine has it.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
python=.venv/bin/python
export ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections"
export PATH="$PWD/.venv/bin:$PWD/.tools/bin:$PATH"

if ! command -v go >/dev/null 2>&1; then
    echo "test-real: not run: no 'go' command on PATH, and the real cluster is built from Go modules (install Go 1.25 or newer)"
    if [ "${CI:-}" = true ]; then
        exit 1
    fi
    exit 77
fi

rc=0
start=$SECONDS
echo "==> test-real: building the real cluster (cached after the first time)"
"$python" -m tests.realcluster --build-only || exit 1
echo "    built or found current in $((SECONDS - start)) s"

step() {
    local name=$1
    shift
    echo
    echo "==> test-real: ${name}: $*"
    local began=$SECONDS
    "$@"
    local status=$?
    echo "    ${name}: exit ${status} after $((SECONDS - began)) s"
    if [ "$status" -ne 0 ]; then
        rc=1
    fi
}

# shellcheck disable=SC2329  # called through step
go_checks() {
    local unformatted
    unformatted=$(gofmt -l tests/realcluster)
    if [ -n "$unformatted" ]; then
        echo "gofmt would change: $unformatted"
        return 1
    fi
    (cd tests/realcluster && GOFLAGS=-mod=readonly go vet ./...) && (cd tests/realcluster/kwok && GOFLAGS=-mod=readonly go vet ./...)
}

step go-checks go_checks
# shellcheck disable=SC2086  # REAL_PYTEST_ARGS is a list of options
step pytest "$python" -m pytest -m real_cluster ${REAL_PYTEST_ARGS--n 2} tests/real tests/fidelity
step molecule-default env MESHOPS_TEST_CLUSTER=real bash scripts/molecule.sh -s default
step molecule-rollback env MESHOPS_TEST_CLUSTER=real bash scripts/molecule.sh -s rollback
step molecule-default-helm env MESHOPS_TEST_CLUSTER=real MESHOPS_TEST_INSTALLER=helm bash scripts/molecule.sh -s default
step molecule-rollback-helm env MESHOPS_TEST_CLUSTER=real MESHOPS_TEST_INSTALLER=helm bash scripts/molecule.sh -s rollback
echo "test-real: exit ${rc} after $((SECONDS - start)) s"
exit "$rc"
