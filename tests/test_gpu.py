"""GPU profiling through NVML, without a GPU: the heatline command runs with
HEATLINE_NVML_LIBRARY naming the stand-in libnvidia-ml.so.1 of tests/nvml/fake_nvml.c, which a
script (FAKE_NVML_SCRIPT) tells what to answer and which logs every call (FAKE_NVML_LOG).

tests/programs/gpu_phases.py runs a line marked `gpu` while the stand-in reads 90% and 512 MB,
then a line marked `cpu` while it reads 0% and 0 MB (the program writes the state file the
stand-in reads), so the truth of each line is known.
"""
from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import PROGRAMS, Profile, Run, Runner, assert_no_heatline_traceback

STAND_IN = Path(__file__).resolve().parent / "nvml" / "fake_nvml.c"
PHASES = PROGRAMS / "gpu_phases.py"
OTHER_PID = 4242  # another process on the device: its figures must never be taken for ours

# Each variant of the stand-in: the -D flags that leave out what an older driver lacks.
VARIANTS = {
    "full": [],
    "no_process_utilization": ["-DFAKE_NVML_NO_PROCESS_UTILIZATION"],
    "v1_processes_only": ["-DFAKE_NVML_NO_PROCESSES_V3", "-DFAKE_NVML_NO_PROCESSES_V2"],
    "no_init_v2": ["-DFAKE_NVML_NO_INIT_V2"],
}

LINE_GPU_FIELDS = ("gpu_percent", "gpu_mem_avg_mb", "gpu_mem_peak_mb")
POLL_FUNCTIONS = {"nvmlDeviceGetProcessUtilization", "nvmlDeviceGetUtilizationRates",
                  "nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2",
                  "nvmlDeviceGetComputeRunningProcesses"}
UTILIZATION_FUNCTIONS = {"nvmlDeviceGetProcessUtilization", "nvmlDeviceGetUtilizationRates"}
MEMORY_FUNCTIONS = POLL_FUNCTIONS - UTILIZATION_FUNCTIONS
# Generous bounds on the calls per second of the run: utilization is read at about 10 Hz (two
# calls a reading when the driver is asked for the size first), memory at about 2 Hz.
UTILIZATION_CALLS_PER_S = 25
MEMORY_CALLS_PER_S = 5
PHASE_MB = 512
MB_TOLERANCE = 1.0

# A script for the phases: the state file stands for utilization and memory; another process
# on the device, busy and holding memory.
PHASES_SCRIPT = """\
devices 1
name 0 Fake H100 80GB HBM3
total 0 81559
statefile {state}
other 0 {other} 70 3000
"""


@pytest.fixture(scope="session")
def stand_ins(tmp_path_factory) -> dict[str, Path]:
    """The stand-in library built in every variant: {variant: path of its libnvidia-ml.so.1}."""
    built = {}
    for variant, flags in VARIANTS.items():
        folder = tmp_path_factory.mktemp(f"nvml-{variant}")
        library = folder / "libnvidia-ml.so.1"
        subprocess.run(["cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", *flags,
                        "-o", str(library), str(STAND_IN), "-lpthread"], check=True)
        built[variant] = library
    return built


@dataclass
class GpuRun:
    run: Run
    log: list[tuple[str, int, int]]  # (function, tid, monotonic ns); "loaded" lines apart
    loaded: list[int]  # pids that loaded the stand-in

    @property
    def profile(self) -> Profile:
        return self.run.profile

    @property
    def gpu(self) -> dict:
        return self.run.profile["gpu"]

    def calls(self, functions: set[str]) -> list[tuple[str, int, int]]:
        return [call for call in self.log if call[0] in functions]


def profile_with_nvml(heatline: Runner, library: Path | str | None, script: str,
                      program: Path = PHASES, options: tuple = (), json_out: bool = True) -> GpuRun:
    """Runs program under heatline with the stand-in (library None: HEATLINE_NVML_LIBRARY unset);
    `script` may name {state} (the state file) and {other} (another process's pid)."""
    state = heatline.new_path("state", ".txt")
    log = heatline.new_path("nvml", ".log")
    script_path = heatline.new_path("script", ".txt")
    script_path.write_text(script.format(state=state, other=OTHER_PID))
    env = {**os.environ, "FAKE_NVML_SCRIPT": str(script_path), "FAKE_NVML_LOG": str(log)}
    env.pop("HEATLINE_NVML_LIBRARY", None)
    if library is not None:
        env["HEATLINE_NVML_LIBRARY"] = str(library)
    args = (str(state),) if program == PHASES else ()
    run = heatline.profile(program, *args, options=options, truth=program == PHASES, env=env)
    calls, loaded = [], []
    for line in log.read_text().splitlines() if log.exists() else ():
        fields = line.split()
        if fields[0] == "loaded":
            loaded.append(int(fields[1]))
        else:
            calls.append((fields[0], int(fields[1]), int(fields[2])))
    return GpuRun(run, calls, loaded)


def assert_run_unaffected(gpu_run: GpuRun) -> None:
    """The program ran as without heatline: its output, its exit status, no traceback, and a
    whole document."""
    run = gpu_run.run
    assert run.returncode == 0, run.stderr
    assert run.stdout == "phases done\n", run.stdout
    assert_no_heatline_traceback(run.stderr)
    assert run.truth["thread_ids"]
    gpu_run.profile.assert_well_formed()


def assert_one_line_note(gpu: dict, *words: str) -> None:
    note = gpu["note"]
    assert isinstance(note, str) and note.strip() and "\n" not in note, gpu
    for word in words:
        assert word.lower() in note.lower(), gpu


def assert_gpu_fields_null(profile: Profile) -> None:
    """No GPU figures at all: every line's, every function's and the totals' are null."""
    doc = profile.document
    assert doc["gpu"]["available"] is False and doc["gpu"]["per_process"] is False, doc["gpu"]
    assert doc["gpu"]["device"] is None and doc["gpu"]["timeline"] is None, doc["gpu"]
    assert doc["totals"]["gpu_percent"] is None and doc["totals"]["gpu_mem_peak_mb"] is None, doc["totals"]
    for entry in doc["files"].values():
        for item in entry["lines"] + entry["functions"]:
            assert all(item[field] is None for field in LINE_GPU_FIELDS), item


def assert_phases_attributed(profile: Profile, busy_percent: float = 90, mb: float = PHASE_MB) -> None:
    """The GPU line carries the GPU's utilization and memory; the CPU line neither."""
    gpu_line = profile.marked(PHASES, "gpu")
    cpu_line = profile.marked(PHASES, "cpu")
    assert gpu_line is not None and cpu_line is not None
    assert gpu_line["gpu_percent"] >= busy_percent * 50 / 90, gpu_line
    assert cpu_line["gpu_percent"] <= 20, cpu_line
    assert abs(gpu_line["gpu_mem_peak_mb"] - mb) <= MB_TOLERANCE, gpu_line
    assert gpu_line["gpu_mem_avg_mb"] >= mb / 2, gpu_line
    assert cpu_line["gpu_mem_avg_mb"] <= mb / 4, cpu_line
    launch = profile.function(PHASES, "launch_kernels")
    assert launch is not None and launch["gpu_percent"] >= busy_percent * 50 / 90, launch


def test_gpu_time_and_memory_land_on_the_line_that_ran_while_the_gpu_was_busy(heatline, stand_ins) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], PHASES_SCRIPT)
    assert_run_unaffected(gpu_run)
    profile = gpu_run.profile
    gpu = gpu_run.gpu
    assert gpu["available"] is True and gpu["per_process"] is True, gpu
    assert gpu["note"] is None, gpu
    assert gpu["device"] == "Fake H100 80GB HBM3", gpu
    assert len(gpu["devices"]) == 1 and gpu["devices"][0]["index"] == 0, gpu
    assert gpu["devices"][0]["name"] == "Fake H100 80GB HBM3"
    assert abs(gpu["devices"][0]["memory_total_mb"] - 81559) <= MB_TOLERANCE, gpu
    assert_phases_attributed(profile)
    totals = profile["totals"]
    # Busy for about 1 s of a run of about 4 s (never the other process's 70%).
    assert 5 <= totals["gpu_percent"] <= 60, totals
    assert abs(totals["gpu_mem_peak_mb"] - PHASE_MB) <= MB_TOLERANCE, totals
    timeline = gpu["timeline"]
    assert timeline and len(timeline) <= 256, timeline
    assert all(len(point) == 2 for point in timeline)
    times = [t for t, _ in timeline]
    assert times == sorted(times), timeline
    assert abs(max(mb for _, mb in timeline) - PHASE_MB) <= MB_TOLERANCE, timeline
    assert min(mb for _, mb in timeline) <= MB_TOLERANCE, timeline


def test_utilization_and_memory_are_summed_over_devices(heatline, stand_ins) -> None:
    script = "devices 2\nname 0 Fake A\nname 1 Fake B\nstatefile {state}\n"
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], script)
    assert_run_unaffected(gpu_run)
    gpu = gpu_run.gpu
    assert gpu["device"] == "Fake A, Fake B", gpu
    assert [device["name"] for device in gpu["devices"]] == ["Fake A", "Fake B"], gpu
    # Both devices read 90% and 512 MB: the line's figures are the sums.
    assert_phases_attributed(gpu_run.profile, busy_percent=180, mb=2 * PHASE_MB)
    assert gpu_run.profile.marked(PHASES, "gpu")["gpu_percent"] > 100


def test_device_wide_utilization_when_the_driver_gives_none_per_process(heatline, stand_ins) -> None:
    script = PHASES_SCRIPT + "error nvmlDeviceGetProcessUtilization NOT_SUPPORTED\n"
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], script)
    assert_run_unaffected(gpu_run)
    assert gpu_run.gpu["available"] is True and gpu_run.gpu["per_process"] is False, gpu_run.gpu
    assert_phases_attributed(gpu_run.profile)
    assert gpu_run.calls({"nvmlDeviceGetUtilizationRates"}), "device-wide utilization was never read"


def test_device_wide_utilization_when_the_driver_lacks_process_utilization(heatline, stand_ins) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["no_process_utilization"], PHASES_SCRIPT)
    assert_run_unaffected(gpu_run)
    assert gpu_run.gpu["available"] is True and gpu_run.gpu["per_process"] is False, gpu_run.gpu
    assert_phases_attributed(gpu_run.profile)


def test_a_driver_with_only_the_first_running_processes_call_reads_its_struct(heatline, stand_ins) -> None:
    """nvmlDeviceGetComputeRunningProcesses fills the 2-field struct: read as the 4-field one of
    _v2/_v3, this process's memory would be lost or wrong."""
    gpu_run = profile_with_nvml(heatline, stand_ins["v1_processes_only"], PHASES_SCRIPT)
    assert_run_unaffected(gpu_run)
    assert gpu_run.calls({"nvmlDeviceGetComputeRunningProcesses"})
    assert_phases_attributed(gpu_run.profile)


def test_a_driver_without_init_v2_is_started_with_nvmlinit(heatline, stand_ins) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["no_init_v2"], PHASES_SCRIPT)
    assert_run_unaffected(gpu_run)
    assert gpu_run.calls({"nvmlInit"}), gpu_run.log[:5]
    assert gpu_run.gpu["available"] is True, gpu_run.gpu
    assert_phases_attributed(gpu_run.profile)


def test_a_running_processes_list_too_small_at_first_is_asked_for_again(heatline, stand_ins) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], PHASES_SCRIPT + "insufficient_once\n")
    assert_run_unaffected(gpu_run)
    assert gpu_run.gpu["available"] is True and gpu_run.gpu["note"] is None, gpu_run.gpu
    assert_phases_attributed(gpu_run.profile)


@pytest.mark.parametrize("function", ["nvmlDeviceGetProcessUtilization", "nvmlDeviceGetComputeRunningProcesses_v3"])
def test_an_nvml_call_that_blocks_50_ms_neither_hangs_the_run_nor_drops_samples(heatline, stand_ins,
                                                                                  function) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], PHASES_SCRIPT + f"block {function} 50\n")
    assert_run_unaffected(gpu_run)
    assert gpu_run.calls({function})
    profile = gpu_run.profile
    assert profile["samples"]["dropped"] == 0, profile["samples"]
    assert gpu_run.gpu["available"] is True, gpu_run.gpu
    assert_phases_attributed(profile)


# Failure paths where no figure is measured: (stand-in variant or a path, script, words of the note).
UNAVAILABLE = {
    "library missing": ("/nonexistent/libnvidia-ml.so.1", "", ("/nonexistent",)),
    "init fails": ("full", "error nvmlInit_v2 DRIVER_NOT_LOADED\n", ("driver not loaded",)),
    "no device": ("full", "devices 0\n", ("no GPU",)),
    "MIG mode": ("full", "mig 0\nstatefile {state}\n", ("MIG",)),
    "not supported anywhere": ("full", "statefile {state}\n" + "".join(
        f"error {function} NOT_SUPPORTED\n" for function in (
            "nvmlDeviceGetProcessUtilization", "nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo",
            "nvmlDeviceGetMigMode", "nvmlDeviceGetComputeRunningProcesses_v3",
            "nvmlDeviceGetComputeRunningProcesses_v2", "nvmlDeviceGetComputeRunningProcesses")), ("not supported",)),
}


@pytest.mark.parametrize("case", UNAVAILABLE)
def test_without_usable_gpu_figures_the_fields_are_null_and_a_note_says_why(heatline, stand_ins, case) -> None:
    library, script, words = UNAVAILABLE[case]
    gpu_run = profile_with_nvml(heatline, stand_ins.get(library, library), script)
    assert_run_unaffected(gpu_run)
    assert_gpu_fields_null(gpu_run.profile)
    assert_one_line_note(gpu_run.gpu, *words)


def test_a_gpu_lost_mid_run_keeps_the_figures_up_to_the_loss_and_says_when(heatline, stand_ins) -> None:
    script = PHASES_SCRIPT + "error nvmlDeviceGetProcessUtilization GPU_IS_LOST 1.2\n"
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], script)
    assert_run_unaffected(gpu_run)
    gpu = gpu_run.gpu
    assert_one_line_note(gpu, "lost")
    assert gpu["available"] is True, gpu
    # Lost 1.2 s after start, 0.4 s into the GPU line: that much of it was read, nothing since.
    totals = gpu_run.profile["totals"]
    assert totals["gpu_percent"] is not None and totals["gpu_percent"] > 0, totals
    assert totals["gpu_mem_peak_mb"] is not None and abs(totals["gpu_mem_peak_mb"] - PHASE_MB) <= MB_TOLERANCE
    polls = gpu_run.calls(POLL_FUNCTIONS)
    lost_at_ns = gpu_run.calls({"nvmlInit_v2"})[0][2] + 1.2e9
    assert all(ns <= lost_at_ns + 0.2e9 for _, _, ns in polls), "NVML was polled after the GPU was lost"


def test_nvml_is_polled_only_from_one_thread_of_heatline_at_a_low_rate(heatline, stand_ins) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], PHASES_SCRIPT)
    assert_run_unaffected(gpu_run)
    program_threads = set(gpu_run.run.truth["thread_ids"])
    polls = gpu_run.calls(POLL_FUNCTIONS)
    assert polls
    pollers = {tid for _, tid, _ in polls}
    assert len(pollers) == 1 and not pollers & program_threads, (pollers, program_threads)
    assert gpu_run.loaded == [gpu_run.run.truth["pid"]], gpu_run.loaded
    elapsed_s = gpu_run.profile["elapsed_s"]
    counts = Counter(function for function, _, _ in polls)
    utilization = sum(counts[function] for function in UTILIZATION_FUNCTIONS)
    memory = sum(counts[function] for function in MEMORY_FUNCTIONS)
    assert utilization <= UTILIZATION_CALLS_PER_S * elapsed_s + 2, (counts, elapsed_s)
    assert memory <= MEMORY_CALLS_PER_S * elapsed_s + 2, (counts, elapsed_s)


def test_no_gpu_never_loads_the_library(heatline, stand_ins) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], PHASES_SCRIPT, options=("--no-gpu",))
    assert_run_unaffected(gpu_run)
    assert gpu_run.loaded == [] and gpu_run.log == []
    assert_gpu_fields_null(gpu_run.profile)
    assert_one_line_note(gpu_run.gpu, "turned off")


def test_cpu_only_leaves_the_gpu_on(heatline, stand_ins) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], PHASES_SCRIPT, options=("--cpu-only",))
    assert_run_unaffected(gpu_run)
    assert gpu_run.gpu["available"] is True, gpu_run.gpu
    assert gpu_run.profile.marked(PHASES, "gpu")["gpu_percent"] >= 50


def nvidia_driver_here() -> bool:
    name = ctypes.util.find_library("nvidia-ml")
    try:
        ctypes.CDLL(name or "libnvidia-ml.so.1")
    except OSError:
        return False
    return True


@pytest.mark.skipif(nvidia_driver_here(), reason="this machine has an NVIDIA driver")
def test_without_a_driver_the_run_says_so_and_is_otherwise_unaffected(heatline) -> None:
    gpu_run = profile_with_nvml(heatline, None, "statefile {state}\n")
    assert_run_unaffected(gpu_run)
    assert gpu_run.loaded == []
    assert_gpu_fields_null(gpu_run.profile)
    assert_one_line_note(gpu_run.gpu, "no NVIDIA driver")
    gpu_line = gpu_run.profile.marked(PHASES, "gpu")
    assert gpu_line["python_s"] + gpu_line["native_s"] > 0.3, gpu_line


def test_the_text_report_shows_the_gpu_column_and_the_device(heatline, stand_ins) -> None:
    gpu_run = profile_with_nvml(heatline, stand_ins["full"], PHASES_SCRIPT)
    saved = heatline.new_path("saved")
    saved.write_text(json.dumps(gpu_run.profile.document))
    result = heatline.command("view", saved, "--cli", env={**os.environ, "COLUMNS": "160"})
    assert result.returncode == 0, result.stderr
    assert "GPU" in result.stdout, result.stdout
    assert "Fake H100 80GB HBM3" in result.stdout, result.stdout
