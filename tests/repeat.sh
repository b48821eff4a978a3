#!/usr/bin/env bash
# Runs `make test` N times in a fresh clone of the committed HEAD while LOAD busy loops keep as
# many cores busy: a test that fails on a loaded machine or only now and then shows here.
# Usage: tests/repeat.sh N LOAD (make test-repeat N=10 LOAD=1).
# Prints one line per run and a last line "test-repeat: P passed, F failed"; exits non-zero if
# any run failed. The logs of failed runs are kept (their directory is printed).
set -u
runs=${1:-10}
load=${2:-1}
if ! [[ $runs =~ ^[0-9]+$ && $load =~ ^[0-9]+$ ]] || ((runs == 0)); then
  echo "usage: tests/repeat.sh N LOAD (N >= 1 runs, LOAD >= 0 busy loops)" >&2
  exit 2
fi
cd "$(dirname "$0")/.." || exit 2
work=$(mktemp -d) || exit 2
loaders=()
stop_load() {
  for pid in "${loaders[@]}"; do kill "$pid" 2>/dev/null; done
  loaders=()
}
trap 'stop_load; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
git clone -q . "$work/heatline" || exit 2
for _ in $(seq "$load"); do
  sh -c 'while :; do :; done' &
  loaders+=($!)
done
passed=0
failed=0
kept=""
for run in $(seq "$runs"); do
  log="$work/run-$run.log"
  if make -C "$work/heatline" test >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "test-repeat: run $run of $runs passed"
  else
    failed=$((failed + 1))
    [[ -n $kept ]] || kept=$(mktemp -d -t heatline-test-repeat.XXXXXX)
    cp "$log" "$kept/"
    echo "test-repeat: run $run of $runs FAILED (log: $kept/run-$run.log); its summary:"
    grep -E "^(FAILED|ERROR) |passed|failed|^smoke " "$log" | tail -20
  fi
done
stop_load
echo "test-repeat: $passed passed, $failed failed"
((failed == 0))
