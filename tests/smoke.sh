#!/usr/bin/env bash
# Smoke test on several Pythons: install heatline (and NumPy) into a fresh venv per version and
# profile a threaded program against the truth it measures, a program that allocates and
# copies, a NumPy/Python memory split, call stacks, await time, and a frame-walk stress. Usage: tests/smoke.sh VERSION... (e.g. 3.9 3.10 3.12 3.13).
# Interpreters come from pyenv. Prints one line per version; exits non-zero if any failed.
# Each version's log is .venv-smoke-VERSION/smoke.log.
set -u
(($#)) || { echo "usage: tests/smoke.sh VERSION..." >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2
program=$(realpath tests/programs/threads_truth.py)
# Bounds a hang; the run itself takes a few seconds.
run_timeout_s=120

# check_profile PYTHON PROFILE TRUTH: the document's schema, and each worker line's seconds and
# share against what the program measured itself (the margins of tests/conftest.py and
# tests/test_accuracy.py: 20% + 0.03 s a line, 8 points of share).
check_profile() {
  "$1" - "$2" "$program" "$3" <<'PY'
import json, os, re, sys
profile_path, program, truth_path = sys.argv[1], sys.argv[2], sys.argv[3]
LINE_SECONDS_RELATIVE_MARGIN, LINE_SECONDS_ABSOLUTE_MARGIN_S = 0.2, 0.03
SHARE_MARGIN_POINTS = 8
doc = json.load(open(profile_path))
truth = json.load(open(truth_path))
assert doc["schema"] == "heatline-profile/1", doc.get("schema")
files = {os.path.realpath(path): entry for path, entry in doc["files"].items()}
assert program in files, f"{program} not in {list(files)}"
times = {line["line"]: line["python_s"] + line["native_s"] + line["system_s"]
         for line in files[program]["lines"]}
marks = {}
for number, text in enumerate(open(program).read().splitlines(), start=1):
    match = re.search(r"#\s*line:\s*([\w-]+)", text)
    if match:
        marks[match.group(1)] = number
profiled = {name: times.get(marks[name], 0.0) for name in ("light", "heavy")}
measured = {name: truth[name]["cpu_s"] for name in ("light", "heavy")}
for name in profiled:
    margin = LINE_SECONDS_RELATIVE_MARGIN * measured[name] + LINE_SECONDS_ABSOLUTE_MARGIN_S
    assert abs(profiled[name] - measured[name]) <= margin, (
        f"{name} line: profiled {profiled[name]:.3f} s, measured {measured[name]:.3f} s")
    share = profiled[name] / sum(profiled.values()) * 100
    truth_share = measured[name] / sum(measured.values()) * 100
    assert abs(share - truth_share) <= SHARE_MARGIN_POINTS, (
        f"{name} line: {share:.1f}% profiled, {truth_share:.1f}% measured")
print(f"light {profiled['light']:.2f}/{measured['light']:.2f} s, "
      f"heavy {profiled['heavy']:.2f}/{measured['heavy']:.2f} s (profiled/measured)")
PY
}

# check_split PYTHON PROFILE: a line allocating NumPy buffers is native memory, a line building
# str objects is Python memory (a stray sample of the other kind weighs ~1 MB against 96 MB and
# ~50 MB: 10% is a wide margin).
check_split() {
  "$1" - "$2" tests/programs/smoke_numpy_split.py <<'PY'
import json, os, re, sys
doc = json.load(open(sys.argv[1]))
program = os.path.realpath(sys.argv[2])
lines = {line["line"]: line for path, entry in doc["files"].items() if os.path.realpath(path) == program
         for line in entry["lines"]}
marks = {m.group(1): n for n, text in enumerate(open(program).read().splitlines(), start=1)
         for m in [re.search(r"#\s*line:\s*([\w-]+)", text)] if m}
numpy_line, strings = lines[marks["numpy"]], lines[marks["strings"]]
assert numpy_line["python_alloc_fraction"] < 0.1, f"NumPy buffers counted as Python memory: {numpy_line}"
assert strings["python_alloc_fraction"] > 0.9, f"str objects counted as native memory: {strings}"
print(f"NumPy line {numpy_line['python_alloc_fraction']:.0%} Python, "
      f"str line {strings['python_alloc_fraction']:.0%} Python")
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
  if ! "$venv/bin/pip" install -q . numpy >"$log" 2>&1; then
    echo "smoke $ver: FAIL (pip install; see $log)"; failed=1; continue
  fi
  profile="$venv/profile.json"
  truth="$venv/truth.json"
  timeout "$run_timeout_s" "$venv/bin/heatline" --json --outfile "$profile" "$program" "$truth" \
    </dev/null >>"$log" 2>&1
  status=$?
  if [[ $status -ne 0 ]]; then
    echo "smoke $ver: FAIL (heatline exited with $status; see $log)"; failed=1; continue
  fi
  if ! summary=$(check_profile "$venv/bin/python" "$profile" "$truth" 2>>"$log"); then
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
  if ! timeout "$run_timeout_s" "$venv/bin/heatline" --json --outfile "$venv/split.json" \
      tests/programs/smoke_numpy_split.py </dev/null >>"$log" 2>&1 ||
     ! split=$(check_split "$venv/bin/python" "$venv/split.json" 2>>"$log"); then
    echo "smoke $ver: FAIL (NumPy/Python memory split; see $log)"; failed=1; continue
  fi
  # Call stacks (each version lays frames out differently, and the walk past a stack's room reads
  # only the links): the books balance, a recursion 400 deep keeps both ends, and one call path's
  # time is what the program measured (the margins of check_profile).
  if ! timeout "$run_timeout_s" "$venv/bin/heatline" --json --outfile "$venv/stacks.json" \
      tests/programs/stacks_truth.py "$venv/stacks-truth.json" </dev/null >>"$log" 2>&1 ||
     ! stacks=$("$venv/bin/python" - "$venv/stacks.json" "$venv/stacks-truth.json" 2>>"$log" <<'PY'
import json, sys
doc, truth = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
frames, stacks = doc["stacks"]["frames"], doc["stacks"]["stacks"]
kinds = ("python_s", "native_s", "system_s")
for kind in kinds:
    in_stacks = sum(stack[kind] for stack in stacks)
    assert abs(in_stacks - doc["totals"][kind]) <= 0.01 + 0.01 * doc["totals"][kind], (kind, in_stacks)
paths = [([frames[i]["function"] for i in stack["frames"]], stack) for stack in stacks]
cut = [names for names, _ in paths if "[frames cut]" in names]
assert cut, "no cut stack for a recursion 400 deep"
for names in cut:
    assert names[:4] == ["<module>", "main", "timed", "recurse"], names[:6]
    assert len(names) - names.index("[frames cut]") - 1 == 95 and names[-1] == "spin", names[-4:]
heavy = sum(sum(stack[k] for k in kinds) for names, stack in paths if names[-2:] == ["heavy", "spin"])
assert abs(heavy - truth["heavy_s"]) <= 0.2 * truth["heavy_s"] + 0.03, (heavy, truth["heavy_s"])
print(f"stacks: heavy->spin {heavy:.2f}/{truth['heavy_s']:.2f} s, {len(cut)} cut")
PY
     ); then
    echo "smoke $ver: FAIL (call stacks; see $log)"; failed=1; continue
  fi
  # Await time: each version lays out suspended coroutines and asyncio's tasks differently.
  if ! timeout "$run_timeout_s" "$venv/bin/heatline" --json --outfile "$venv/await.json" \
      tests/programs/await_truth.py "$venv/await-truth.json" </dev/null >>"$log" 2>&1 ||
     ! awaits=$("$venv/bin/python" tests/await_check.py "$venv/await.json" "$venv/await-truth.json" 2>>"$log"); then
    echo "smoke $ver: FAIL (await time; see $log)"; failed=1; continue
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
  echo "smoke $ver: ok (Python $full; $summary; $memory; $split; $stacks; $awaits)"
  passed=$((passed + 1))
done
echo "smoke: $passed passed, $(($# - passed)) failed"
exit "$failed"
