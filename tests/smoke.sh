#!/usr/bin/env bash
# Smoke test on several Pythons: install heatline into a fresh venv per version and profile a
# threaded program, a program that allocates and copies, and a frame-walk stress with it. Usage: tests/smoke.sh VERSION... (e.g. 3.9 3.10 3.12 3.13).
# Interpreters come from pyenv. Prints one line per version; exits non-zero if any failed.
# Each version's log is .venv-smoke-VERSION/smoke.log.
set -u
(($#)) || { echo "usage: tests/smoke.sh VERSION..." >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2
program=$(realpath tests/programs/threads_truth.py)
# Bounds a hang; the run itself takes a few seconds.
run_timeout_s=120

# check_profile PYTHON PROFILE: the document's schema, and both worker lines measured.
check_profile() {
  "$1" - "$2" "$program" <<'PY'
import json, os, re, sys
profile_path, program = sys.argv[1], sys.argv[2]
doc = json.load(open(profile_path))
assert doc["schema"] == "heatline-profile/1", doc.get("schema")
files = {os.path.realpath(path): entry for path, entry in doc["files"].items()}
assert program in files, f"{program} not in {list(files)}"
times = {line["line"]: line["python_s"] + line["native_s"] for line in files[program]["lines"]}
marks = {}
for number, text in enumerate(open(program).read().splitlines(), start=1):
    match = re.search(r"#\s*line:\s*([\w-]+)", text)
    if match:
        marks[match.group(1)] = number
for name in ("light", "heavy"):
    assert times.get(marks[name], 0) > 0, f"{name} worker line {marks[name]} has no time"
print(f"light {times[marks['light']]:.2f} s, heavy {times[marks['heavy']]:.2f} s")
PY
}

failed=0
passed=0
for ver in "$@"; do
  venv=".venv-smoke-$ver"
  log="$venv/smoke.log"
  full=$(pyenv versions --bare 2>/dev/null | grep -E "^${ver}(\.|$)" | head -1)
  if [[ -z $full ]]; then
    echo "smoke $ver: FAIL (no Python $ver installed in pyenv)"; failed=1; continue
  fi
  python="$(pyenv prefix "$full")/bin/python"
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    echo "smoke $ver: FAIL (python -m venv with $python)"; failed=1; continue
  fi
  if ! "$venv/bin/pip" install -q . >"$log" 2>&1; then
    echo "smoke $ver: FAIL (pip install; see $log)"; failed=1; continue
  fi
  profile="$venv/profile.json"
  timeout "$run_timeout_s" "$venv/bin/heatline" --json --outfile "$profile" "$program" \
    </dev/null >>"$log" 2>&1
  status=$?
  if [[ $status -ne 0 ]]; then
    echo "smoke $ver: FAIL (heatline exited with $status; see $log)"; failed=1; continue
  fi
  if ! summary=$(check_profile "$venv/bin/python" "$profile" 2>>"$log"); then
    echo "smoke $ver: FAIL (profile check; see $log)"; failed=1; continue
  fi
  # Memory: 96 MB of bytearrays (Python's allocator) and 96 MB copied by bytes(); buffers of 8 R
  # are counted exactly, so 10% is a wide margin.
  if ! timeout "$run_timeout_s" "$venv/bin/heatline" --json --outfile "$venv/memory.json" \
      tests/programs/smoke_memory.py </dev/null >>"$log" 2>&1 ||
     ! memory=$("$venv/bin/python" - "$venv/memory.json" tests/programs/smoke_memory.py 2>>"$log" <<'PY'
import json, os, re, sys
doc = json.load(open(sys.argv[1]))
program = os.path.realpath(sys.argv[2])
lines = {line["line"]: line for path, entry in doc["files"].items() if os.path.realpath(path) == program
         for line in entry["lines"]}
marks = {m.group(1): n for n, text in enumerate(open(program).read().splitlines(), start=1)
         for m in [re.search(r"#\s*line:\s*([\w-]+)", text)] if m}
python, copy = lines[marks["python"]], lines[marks["copy"]]
assert abs(python["alloc_mb"] - 96) <= 9.6, python
assert python["python_alloc_fraction"] > 0.9, python
assert abs(copy["copy_mb"] - 96) <= 9.6, copy
print(f"alloc {python['alloc_mb']:.0f} MB, copied {copy['copy_mb']:.0f} MB")
PY
     ); then
    echo "smoke $ver: FAIL (memory; see $log)"; failed=1; continue
  fi
  # The frame walk under fast sampling of deep library stacks (each version lays frames out
  # differently); a crash here is a status of 128+11.
  stress_failed=0
  for _ in 1 2 3; do
    timeout "$run_timeout_s" "$venv/bin/heatline" --profile-all --cpu-sampling-interval 0.001 --json \
      --outfile "$venv/stress.json" tests/programs/library_stress.py </dev/null >>"$log" 2>&1 || stress_failed=$?
  done
  if [[ $stress_failed -ne 0 ]]; then
    echo "smoke $ver: FAIL (frame-walk stress exited with $stress_failed; see $log)"; failed=1; continue
  fi
  echo "smoke $ver: ok (Python $full; $summary; $memory)"
  passed=$((passed + 1))
done
echo "smoke: $passed passed, $(($# - passed)) failed"
exit "$failed"
