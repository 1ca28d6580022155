"""Every shell command that README.md and docs/*.md show in a code block is run by the
suite: here, as written (in a temporary folder, with a few options appended that keep
it quick), or by the test or CI step named in ELSEWHERE, which is checked to run it.
A command added to a page that neither list knows fails this test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# a documented command -> the options appended when it runs here (the last --steps wins)
RUN: dict[str, tuple[str, ...]] = {
    "python -m designer tasks": (),
    "python -m designer --lang zh tasks": (),
    "LANG=zh_CN.UTF-8 python -m designer tasks": (),
    "python -m designer validate examples/deep_lstm.json": (),
    "python -m designer train examples/deep_lstm.json --steps 2000 --save run.pt": (
        "--steps",
        "3",
    ),
    "python -m designer train examples/deep_lstm.json --json --each-step": ("--steps", "3"),
    "python -m designer train --resume run.pt --steps 4000 --save run.pt": ("--steps", "5"),
    "python -m designer probe --checkpoint run.pt": (),
    "python -m designer probe --checkpoint run.pt --credit --json": (),
    "python -m designer probe --checkpoint run.pt --paths --memory": (),
    "python -m designer probe --checkpoint run.pt --inputs --json": (),
    "python -m designer cell --checkpoint run.pt --layer 0 --step 10 --json": (),
    "python -m designer train examples/deep_lstm.json --task charlm --steps 400 --save charlm.pt": (
        "--steps",
        "3",
    ),
    'python -m designer sample --checkpoint charlm.pt --temperature 0.8 --prompt "The sea"': (),
    "python -m designer graph examples/deep_lstm.json --out graph.html": (),
    "python -m designer export examples/deep_lstm.json > model.py": (),
    "python -m designer export examples/deep_lstm.json --with-training > train.py": (),
    "python -m designer export examples/deep_lstm.json --format ipynb > train.ipynb": (),
    "python -m designer export examples/rnn_vs_lstm_rnn.json --format numpy > by_hand.py": (),
    "python -m designer lessons": (),
    "python -m designer lessons show why-gates --json": (),
    "python -m designer lessons new examples/lessons/rnn.json examples/lessons/gru.json "
    '--question "Which one learns to add?" --choice "the tanh RNN" --choice "the GRU" '
    '--answer 2 --verdict "val_loss: B < 0.2 * baseline and A > 0.5 * baseline" '
    "--out lesson.json": (),
    "python -m designer lessons show examples/lessons/gru-vs-rnn-memory.json --json": (),
    'python -c "from designer import Experiment; import json; '
    'print(json.dumps(Experiment.json_schema()))"': (),
    # the browser benchmarks take minutes: their arguments are parsed, then --help
    "python -m bench.app_load": ("--help",),
    "python -m bench.app_load --only cold_start": ("--help",),
    "python -m bench.app_load --only design_clicks": ("--help",),
    "python -m bench.app_load --only classroom": ("--help",),
    "python -m bench.app_load --only page_loads": ("--help",),
    "python -m bench.app_load --only class30": ("--help",),
    "python -m bench.app_load --only char_model": ("--help",),
    "python -m bench.app_load --only memory": ("--help",),
    "python -m bench.lesson_class --sessions 30": ("--help",),
    "python -m bench.replicas --sessions 60": ("--help",),
}

# a documented command -> (the file that runs it, the text there that does)
ELSEWHERE: dict[str, tuple[str, str]] = {
    "pip install -r requirements.txt": (".ci/run", "pip install -q -r requirements.txt"),
    "pip install -r requirements.txt -r requirements-dev.txt": (
        ".ci/run",
        "pip install -q -r requirements.txt -r requirements-dev.txt",
    ),
    "python -m pytest -q": (".ci/run", "\npython -m pytest -q\n"),  # its last line
    "streamlit run streamlit_app.py": (
        "bench/served.py",
        'script: str | Path = "streamlit_app.py"',  # what served_app runs unless told
    ),
    "torchrun --nproc_per_node=2 train.py": ("tests/unit/test_codegen.py", '"--nproc_per_node=2"'),
    "python -m designer bench": ("tests/unit/test_cli.py", 'main(["bench", "--quick", "--json"])'),
    "python -m designer lessons check why-gates": (
        "tests/unit/test_lessons.py",
        "check_lesson(lesson, seed=seed)",
    ),
    "python -m designer lessons check irnn --seed 1": (
        "tests/unit/test_lessons.py",
        "check_lesson(lesson, seed=seed)",
    ),
    "python -m designer lessons check examples/lessons/gru-vs-rnn-memory.json --json": (
        "tests/unit/test_lesson_documents.py",
        'main(["lessons", "check", EXAMPLE, "--json"])',
    ),
}

# Runs the commands in order in one fresh interpreter (torch imported once, not 25 times).
DRIVER = r"""
import contextlib, io, json, os, runpy, shlex, sys
results = []
for line in json.loads(sys.argv[1]):
    words = shlex.split(line)
    env = {}
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    target = None
    if ">" in words:
        target = words[words.index(">") + 1]
        words = words[: words.index(">")]
    assert words[0] == "python", line
    saved = dict(os.environ)
    os.environ.update(env)
    out = open(target, "w", encoding="utf-8") if target else io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(out):
            if words[1] == "-c":
                exec(compile(words[2], "<doc>", "exec"), {"__name__": "__main__"})
            else:
                sys.argv = [words[2], *words[3:]]
                runpy.run_module(words[2], run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        code = stop.code or 0
    finally:
        os.environ.clear()
        os.environ.update(saved)
        out.close() if target else None
    results.append([line, code])
print(json.dumps(results))
"""


def documented_commands() -> set[str]:
    """Each command of each shell code block (comments dropped, `a && b` as a and b)."""
    commands = set()
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```(?:bash|sh|shell|console)\n(.*?)```", text, re.S):
            for line in block.splitlines():
                line = re.sub(r"\s+#( |$).*", "", line).strip()
                if line and not line.startswith("#"):
                    commands.update(part.strip() for part in line.split("&&"))
    return commands


def with_options(command: str, options: tuple[str, ...]) -> str:
    """The command with `options` before its redirection, if any."""
    head, redirect, target = command.partition(" > ")
    return " ".join([head, *options]) + (redirect + target if redirect else "")


def test_every_documented_command_is_known():
    documented = documented_commands()
    assert documented, "no shell code block found"
    assert not set(RUN) & set(ELSEWHERE)
    assert documented - set(RUN) - set(ELSEWHERE) == set(), "a command that no test runs"
    assert set(RUN) | set(ELSEWHERE) <= documented, "a command the pages no longer show"


def test_the_commands_run_elsewhere_are_run_there():
    for command, (path, text) in ELSEWHERE.items():
        assert text in (ROOT / path).read_text(encoding="utf-8"), (command, path)
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == "python -m pytest -q"  # the README's test command, last
    conftest = (ROOT / "tests/e2e/conftest.py").read_text(encoding="utf-8")
    assert "with served_app() as url" in conftest  # the browser tests use bench/served.py


def test_the_documented_commands_run(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    lines = [with_options(command, options) for command, options in RUN.items()]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DESIGNER_STORE_DIR": str(tmp_path / "store")}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(lines)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert [code for _, code in results] == [0] * len(RUN), results
    made_files = ("run.pt", "charlm.pt", "graph.html", "model.py", "train.py", "train.ipynb")
    for made in (*made_files, "lesson.json"):
        assert (tmp_path / made).stat().st_size > 0, made
    assert "def " in (tmp_path / "by_hand.py").read_text(encoding="utf-8")


def test_the_links_between_the_pages_lead_somewhere():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (page.parent / link).exists(), (page.name, link)
