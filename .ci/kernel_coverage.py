"""Line coverage of the Numba kernel run as plain Python (``NUMBA_DISABLE_JIT=1``).

Not part of the default test run (it takes several minutes).  From the repository root::

    python .ci/kernel_coverage.py                 # tests/crosscheck and tests/kernels
    python .ci/kernel_coverage.py --fail-under 95 tests/crosscheck/test_fast_path.py

With the JIT off, every ``@njit`` function of ``src/queue_sim/kernels`` is ordinary Python, so
the cross-check and kernel tests execute the kernel's lines one by one; this script records them
with the standard library's ``sys.settrace`` (no coverage package needed: the tracer follows
only frames of the kernel's files, so the rest of the run keeps its speed) and prints, per kernel
module, the executable lines run, the percentage and the lines never run.  The JIT-only half of
``_record.py`` (numba types and intrinsics) cannot run as Python and is reported apart.  Arguments
other than ``--fail-under`` go to pytest.  Exit status: pytest's, or 1 if the total is under
``--fail-under``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import types
from pathlib import Path

os.environ["NUMBA_DISABLE_JIT"] = "1"  # before numba is imported, here or by the tests

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "src" / "queue_sim" / "kernels"
DEFAULT_TESTS = ["tests/crosscheck", "tests/kernels",
                 "--deselect", "tests/kernels/test_stream_memory.py"]


def executable_lines(path: Path) -> set[int]:
    """Line numbers that carry bytecode, in the module and every function nested in it."""
    lines: set[int] = set()
    todo = [compile(path.read_text(), str(path), "exec")]
    while todo:
        code = todo.pop()
        lines.update(line for _, _, line in code.co_lines() if line is not None)
        todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return lines


class LineRecorder:
    """A ``sys.settrace`` tracer that records the lines run in the kernel's files only."""

    def __init__(self, folder: Path):
        self.prefix = str(folder.resolve()) + os.sep
        self.hits: dict[str, set[int]] = {}

    def __call__(self, frame, event, arg):  # noqa: ANN001, ANN204
        filename = frame.f_code.co_filename
        if not filename.startswith(self.prefix):
            return None
        hits = self.hits.setdefault(filename, set())
        hits.add(frame.f_lineno)

        def local(frame, event, arg):  # noqa: ANN001, ANN202
            if event == "line":
                hits.add(frame.f_lineno)
            return local
        return local


def jit_only_lines(path: Path) -> set[int]:
    """In ``_record.py``: the ``else:`` branch of ``if config.DISABLE_JIT`` (compiled only)."""
    text = path.read_text().splitlines()
    start = next(i for i, line in enumerate(text, 1) if line.startswith("else:"))
    return set(range(start + 1, len(text) + 1))


def ranges(lines: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``3-5, 9``."""
    out, start = [], None
    for k, line in enumerate(lines):
        if start is None:
            start = line
        if k + 1 == len(lines) or lines[k + 1] != line + 1:
            out.append(str(start) if start == line else f"{start}-{line}")
            start = None
    return ", ".join(out)


def report(recorder: LineRecorder) -> float:
    """Print the per-module table; returns the total percentage."""
    total_run = total = 0
    print(f"\nkernel line coverage with NUMBA_DISABLE_JIT=1 ({KERNELS.relative_to(ROOT)})")
    for path in sorted(KERNELS.glob("*.py")):
        lines = executable_lines(path)
        skipped = jit_only_lines(path) & lines if path.name == "_record.py" else set()
        lines -= skipped
        hit = recorder.hits.get(str(path.resolve()), set()) & lines
        missing = sorted(lines - hit)
        total_run, total = total_run + len(hit), total + len(lines)
        note = f" (+{len(skipped)} JIT-only lines not counted)" if skipped else ""
        print(f"  {path.name:16s} {len(hit):5d}/{len(lines):5d} "
              f"{100 * len(hit) / max(len(lines), 1):6.1f}%{note}")
        if missing:
            print(f"      not run: {ranges(missing)}")
    percent = 100 * total_run / max(total, 1)
    print(f"  {'total':16s} {total_run:5d}/{total:5d} {percent:6.1f}%")
    return percent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fail-under", type=float, default=0.0,
                        help="exit 1 if the total line coverage (%%) is below this")
    args, pytest_args = parser.parse_known_args()  # the rest goes to pytest
    pytest_args = pytest_args or DEFAULT_TESTS
    os.chdir(ROOT)
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import pytest

    recorder = LineRecorder(KERNELS)
    threading.settrace(recorder)
    sys.settrace(recorder)
    try:
        status = pytest.main(["-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                              *pytest_args])
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
    percent = report(recorder)
    if status != 0:
        return int(status)
    return 1 if percent < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
