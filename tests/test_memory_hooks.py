"""heatline's memory hooks themselves: every relocation slot patched at start is restored at stop,
over many sessions; tracemalloc and heatline wrap Python's allocator together; the dlsym hook stays
a tail call (or dlsym(RTLD_NEXT, ...) would search from heatline instead of its caller)."""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROGRAMS, Profile

HOOKS = PROGRAMS / "mem_hooks.py"
# 16000 bytes(1000) objects (their headers included) at a 64 KiB rate: about 250 samples, a
# relative standard deviation below sqrt(rate / bytes) = 6.3%; 5 of them is a false failure in
# fewer than 1 run in a million. (4000 objects within 40%, headers left out of the truth, failed
# about 1 run in 300.)
AGAIN_RATE_BYTES = 65536
AGAIN_MB = 16000 * sys.getsizeof(bytes(1000)) / (1 << 20)
AGAIN_RELATIVE_MARGIN = 5 * math.sqrt(AGAIN_RATE_BYTES / (AGAIN_MB * (1 << 20)))


@pytest.fixture(scope="module")
def hooks(tmp_path_factory, installed_heatline):
    out = tmp_path_factory.mktemp("hooks") / "hooks.json"
    result = subprocess.run([str(installed_heatline.parent / "python"), str(HOOKS), str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def test_every_patched_slot_is_restored_at_stop(hooks):
    assert hooks["before"] == 0
    for during, after in hooks["cycles"]:
        assert during > 0, hooks["cycles"]  # libpython reaches malloc and memcpy through slots
        assert after == 0, hooks["cycles"]
    assert hooks["after"] == 0


def test_tracemalloc_and_heatline_wrap_pythons_allocator_together(hooks):
    # 3.8 MB of bytes objects at a 64 KiB rate: about 60 samples; 1 MB is 5 standard deviations off.
    assert hooks["alloc_mb_under_tracemalloc"] > 1.0  # heatline counted under tracemalloc
    assert hooks["tracemalloc_grew_mb"] > 0.8       # tracemalloc kept counting after heatline stopped
    profile = Profile(hooks["again_profile"])
    profile.assert_well_formed()
    again = profile.marked(HOOKS, "again")
    assert again is not None
    assert abs(again["alloc_mb"] - AGAIN_MB) <= AGAIN_RELATIVE_MARGIN * AGAIN_MB, again
    assert again["python_alloc_fraction"] > 0.9, again


def _function_body(disassembly: str, name: str) -> str:
    match = re.search(rf"^[0-9a-f]+ <{name}>:\n(.*?)(?:\n\n|\Z)", disassembly, re.S | re.M)
    assert match, f"{name} not found in the engine's symbols"
    return match.group(1)


def test_dlsym_hook_ends_in_a_jump_to_dlsym(installed_heatline):
    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("objdump is not installed")
    engine = next(Path(p) for p in installed_heatline.parent.parent.glob("lib/python3*/site-packages/heatline/_core*.so"))
    disassembly = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(engine)], capture_output=True,
                                 text=True, check=True).stdout
    body = _function_body(disassembly, "hook_dlsym")
    assert re.search(r"\bjmp\s+[0-9a-f]+ <dlsym@plt>", body), body
    assert not re.search(r"\bcall\s+[0-9a-f]+ <dlsym@plt>", body), body
