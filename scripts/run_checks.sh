#!/usr/bin/env bash
# Run every check of `make test` (after `make setup`: pytest, molecule, ansible-lint, sanity, changelog lint, the tests on
# the real cluster), even when an earlier one fails, then print a
# summary. Exits non-zero if any check failed. PYTEST_ARGS adds options to pytest (default: -n auto).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
python=.venv/bin/python
# the collection as Ansible sees it (the link is made by `make collection`)
export ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections"
export PATH="$PWD/.venv/bin:$PWD/.tools/bin:$PATH"
names=()
results=()
seconds=()

run_check() {
    local name=$1
    shift
    echo
    echo "==> ${name}: $*"
    local start=$SECONDS
    "$@"
    local rc=$?
    names+=("$name")
    results+=("$rc")
    seconds+=("$((SECONDS - start))")
}

# shellcheck disable=SC2086  # PYTEST_ARGS is a list of options
run_check pytest "$python" -m pytest ${PYTEST_ARGS--n auto}
run_check molecule bash scripts/molecule.sh
run_check ansible-lint .venv/bin/ansible-lint
run_check sanity "$python" scripts/sanity.py
run_check changelog-lint .venv/bin/antsibull-changelog lint
run_check test-real bash scripts/test_real.sh

failed=0
echo
echo "==> summary"
for i in "${!names[@]}"; do
    if [ "${results[$i]}" -eq 0 ]; then
        status=passed
    elif [ "${results[$i]}" -eq 77 ]; then
        status="NOT RUN (see above)"
    else
        status="FAILED (exit ${results[$i]})"
        failed=1
    fi
    printf '    %-16s %-18s %4ss\n' "${names[$i]}" "$status" "${seconds[$i]}"
done
if [ "$failed" -ne 0 ]; then
    echo "make test: FAILED - see the output of the failed checks above"
    exit 1
fi
echo "make test: all checks passed"
