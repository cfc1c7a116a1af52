"""Start-up time of the command line against the imports it cannot avoid, measured in the same run.

- ``help_over_import_torch``: median wall time of ``python -m lightning_dream --help`` over that of
  ``python -c "import torch"`` (target ≤ 1.0: the help imports neither torch nor Lightning);
- ``report_over_import_torch``: ``report`` of a finished one-job Dream run (made first, not timed),
  same baseline (target ≤ 1.5);
- ``first_step_over_import_lightning``: from launch to the end of the first optimisation step of a
  one-job, one-sentence Dream (``fit --model Dream``; ``first_step.FirstStepMarker`` reports the time
  and ends the process) over ``python -c "import pytorch_lightning"`` (target ≤ 2.0).

Every figure is the median of ``--runs`` launches (default 5), each a fresh interpreter running
this checkout (``PYTHONPATH`` = the repository), offline.
Run: ``python benchmarks/startup.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
}
CLI = [sys.executable, "-m", "lightning_dream"]
ONE_JOB_DREAM = [
    "fit", "--model", "Dream", "--model.sentences", '["the cat sat on the mat ."]', "--model.neuron_ids", "[314]",
    "--model.layer_id", "5", "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu",
]  # fmt: skip


def launch(command: list[str], cwd: Path) -> float:
    """Wall seconds from launch to exit; fails loudly if the command fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def until_first_step(cwd: Path) -> float:
    """Wall seconds from launch to the end of the first optimisation step."""
    callback = '[{"class_path": "first_step.FirstStepMarker"}]'
    command = [*CLI, *ONE_JOB_DREAM, "--trainer.callbacks", callback, "--trainer.default_root_dir", str(cwd)]
    start = time.time()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    marks = [line for line in done.stderr.splitlines() if line.startswith("FIRST_STEP_AT ")]
    if not marks:
        raise SystemExit(f"the Dream run reached no optimisation step:\n{done.stderr[-2000:]}")
    return float(marks[-1].split()[1]) - start


def median(measure, runs: int) -> float:
    return statistics.median(measure() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        launch([*CLI, *ONE_JOB_DREAM, "--model.num_iterations", "2", "--model.method.warmup", "0",
                "--trainer.default_root_dir", str(work / "dream")], cwd=work)  # fmt: skip
        (run_dir,) = (work / "dream" / "lightning_logs").iterdir()

        import_torch = median(lambda: launch([sys.executable, "-c", "import torch"], work), runs)
        import_lightning = median(lambda: launch([sys.executable, "-c", "import pytorch_lightning"], work), runs)
        help_time = median(lambda: launch([*CLI, "--help"], work), runs)
        report_time = median(lambda: launch([*CLI, "report", str(run_dir), "-o", str(work / "r.html")], work), runs)
        first_step = median(lambda: until_first_step(work), runs)

    print(f"import_torch_s: {import_torch:.2f}")
    print(f"import_lightning_s: {import_lightning:.2f}")
    print(f"help_s: {help_time:.2f}  report_s: {report_time:.2f}  first_step_s: {first_step:.2f}")
    print(f"help_over_import_torch: {help_time / import_torch:.2f}")
    print(f"report_over_import_torch: {report_time / import_torch:.2f}")
    print(f"first_step_over_import_lightning: {first_step / import_lightning:.2f}")


if __name__ == "__main__":
    main()
