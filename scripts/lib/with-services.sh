#!/usr/bin/env bash
# Runs a command with the dev-env services up and always stops them afterwards, also when the
# command fails or the run is interrupted (INT/TERM). For CTest fixtures or CI:
#
#   scripts/lib/with-services.sh [service ...] -- ctest --test-dir build -L integration
#
# The command sees the env file's variables (KUBECONFIG, KAFKA_BOOTSTRAP, NATS_URL, ...).
# With SLUICE_KEEP_SERVICES=1 the services are left running.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
devenv="$here/../dev-env"

svcs=()
while [[ $# -gt 0 && "$1" != "--" ]]; do svcs+=("$1"); shift; done
[[ "${1:-}" == "--" ]] || { echo "usage: $0 [service ...] -- command [args...]" >&2; exit 2; }
shift
[[ $# -gt 0 ]] || { echo "usage: $0 [service ...] -- command [args...]" >&2; exit 2; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "${SLUICE_KEEP_SERVICES:-0}" != 1 ]]; then
    "$devenv" down "${svcs[@]}" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

envfile=$("$devenv" up "${svcs[@]}" | tail -n1)
# shellcheck source=/dev/null
source "$envfile"
"$@"
