"""Make the README's pictures: run the browser tests that take them (each leaves its
picture under artifacts/, which git ignores), then copy those into docs/.

The test suite never writes a tracked file; this command is the one way the pictures
in docs/ change, so they show the app as its tests last saw it.

    python -m tools.screenshots
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
# the README's picture <- (the browser test that takes it, the file it leaves)
PICTURES = {
    "docs/screenshot.png": (
        "tests/e2e/test_design_e2e.py::test_drag_and_drop_editing_survives_a_reload",
        "design.png",
    ),
    "docs/screenshot_zh.png": (
        "tests/e2e/test_language_e2e.py::test_every_page_speaks_chinese_and_switches_back",
        "design_zh.png",
    ),
    "docs/compare.png": (
        "tests/e2e/test_compare_e2e.py::test_train_a_variant_and_compare_the_two",
        "compare.png",
    ),
    "docs/lesson.png": (
        "tests/e2e/test_lesson_e2e.py::test_play_lesson_one_then_open_it_in_classroom_mode",
        "lesson.png",
    ),
}


def main() -> int:
    tests = sorted({test for test, _ in PICTURES.values()})
    for _, made in PICTURES.values():
        (ARTIFACTS / made).unlink(missing_ok=True)  # a picture of this run, or none
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests])
    if done.returncode != 0:
        print("the browser tests failed: docs/ is left as it was", file=sys.stderr)
        return done.returncode
    for target, (_, made) in PICTURES.items():
        shutil.copyfile(ARTIFACTS / made, ROOT / target)
        print(f"{target} <- artifacts/{made}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
