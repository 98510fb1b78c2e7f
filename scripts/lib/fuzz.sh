#!/usr/bin/env bash
# The fuzz tier of scripts/test: builds tests/fuzz/ with clang (libFuzzer, ASan+UBSan) in its own
# build dir, then runs each target for a bounded, deterministic budget: -seed=1 -runs=N from its
# committed seed corpus (tests/fuzz/corpus/<target>/, read only) into a fresh working corpus, with
# -max_total_time as a cap on a loaded machine. A crash, leak, sanitizer report or timeout fails the
# target and prints the reproducer; ends "N passed, N failed".
#   SLUICE_FUZZ_BUILD_DIR  build dir (default <repo>/build-fuzz)
#   SLUICE_FUZZ_RUNS       executions per target (default: each target's own, below)
#   SLUICE_FUZZ_TARGETS    a subset of the target names
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${SLUICE_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${SLUICE_JOBS:-2}
MAX_TIME=${SLUICE_FUZZ_MAX_TIME:-60}  # seconds per target, a cap only: -runs ends a normal run

# target -> executions, sized to ~20-30 s each on the 2-core CI machine (figures in tests/fuzz/README.md).
declare -A RUNS=(
  [fuzz_spec_yaml]=6000
  [fuzz_spec_json]=15000
  [fuzz_watch_stream]=20000
  [fuzz_kubeconfig]=20000
  [fuzz_nats_ack_subject]=300000
  [fuzz_retry_after]=500000
  [fuzz_nkey]=200000
  [fuzz_worker_report]=30000
  [fuzz_rfc3339]=500000
)
TARGETS=${SLUICE_FUZZ_TARGETS:-$(printf '%s\n' "${!RUNS[@]}" | sort | tr '\n' ' ')}

launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_DIR=${CCACHE_DIR:-${SLUICE_CACHE:-$HOME/.cache/sluice}/ccache}
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
  export CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

t0=$SECONDS
mkdir -p "$BUILD"
# Warnings are not errors here: -Werror is the gcc build's job, clang's extra warnings would only
# stop the fuzzing.
if ! cmake -S "$ROOT" -B "$BUILD" -G Ninja "${launcher[@]}" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON -DSLUICE_UNIT_TESTS_ONLY=ON -DSLUICE_WERROR=OFF \
  >"$BUILD/configure.log" 2>&1; then
  cat "$BUILD/configure.log"; echo "fuzz: configure failed"; echo "0 passed, 1 failed"; exit 1
fi
# shellcheck disable=SC2086  # TARGETS is a list of names
if ! env -u LC_ALL -u LC_CTYPE -u LC_MESSAGES LANG=C.UTF-8 cmake --build "$BUILD" -j "$JOBS" --target $TARGETS; then
  echo "fuzz: build failed"; echo "0 passed, 1 failed"; exit 1
fi
echo "fuzz: built in $((SECONDS - t0))s"

passed=0
failed=0
for target in $TARGETS; do
  runs=${SLUICE_FUZZ_RUNS:-${RUNS[$target]:-10000}}
  work=$BUILD/fuzz-work/$target
  crashes=$BUILD/fuzz-crashes/$target
  rm -rf "$work" "$crashes"
  mkdir -p "$work" "$crashes"
  log=$BUILD/fuzz-work/$target.log
  started=$SECONDS
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$BUILD/tests/fuzz/$target" -seed=1 -runs="$runs" -max_total_time="$MAX_TIME" -timeout=25 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$work" "$ROOT/tests/fuzz/corpus/$target" </dev/null >"$log" 2>&1
  rc=$?
  stats=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
  done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1)
  if ((rc == 0)) && [[ -z "$(ls -A "$crashes")" ]]; then
    echo "fuzz: $target ok: ${done_line:-no Done line} ($((SECONDS - started))s wall), $stats"
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "fuzz: $target FAILED (exit $rc, $((SECONDS - started))s); log $log"
    grep -E 'ERROR: |SUMMARY: |runtime error|==ERROR|deadly signal|Test unit written' "$log" | head -n 20
    for artifact in "$crashes"/*; do
      [[ -e "$artifact" ]] || continue
      echo "fuzz: reproducer $artifact"
      echo "fuzz:   rerun: $BUILD/tests/fuzz/$target $artifact"
    done
  fi
done
echo "fuzz tier: $((SECONDS - t0))s"
echo "$passed passed, $failed failed"
((failed == 0))
