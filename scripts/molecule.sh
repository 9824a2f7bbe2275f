#!/usr/bin/env bash
# Run the molecule scenarios of extensions/molecule against simulated clusters (one per scenario, started by
# extensions/molecule/shared/create.yml). Without arguments: `molecule test --all`; any arguments replace
# `--all`, for example `scripts/molecule.sh -s rollback` or `scripts/molecule.sh -s default --destroy never`.
# Needs `make setup` (the venv and the collection link under .build/collections).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ ! -e .build/collections/ansible_collections/meshops/istio/galaxy.yml ]; then
    echo "molecule.sh: the collection link .build/collections/ansible_collections/meshops/istio is missing; run 'make setup' first" >&2
    exit 2
fi
export ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections"
export PATH="$PWD/.venv/bin:$PWD/.tools/bin:$PATH"
# the scenarios live in the collection's extensions/molecule (molecule's collection layout); name the glob so
# that discovery does not depend on molecule finding galaxy.yml
export MOLECULE_GLOB="extensions/molecule/*/molecule.yml"
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-${CI:+1}}"

if [ "$#" -eq 0 ]; then
    set -- --all
fi
start=$SECONDS
rc=0
molecule test "$@" || rc=$?
echo "molecule.sh: molecule test $* exited ${rc} after $((SECONDS - start)) s"
exit "$rc"
