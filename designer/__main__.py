"""The command line: every capability of the app, headless.

    python -m designer tasks
    python -m designer validate SPEC.json [--json]
    python -m designer train SPEC.json [--task NAME] [--steps N] [--seed S] [--save CKPT] [--json]
    python -m designer train [SPEC.json] --resume CKPT [--steps N] [--save CKPT] [--json]
    python -m designer probe SPEC.json [--checkpoint CKPT] [--seed S] [--json]
                       [--credit] [--paths] [--memory] [--inputs]
    python -m designer cell [SPEC.json] --checkpoint CKPT --layer L --step T [--sample I] [--json]
    python -m designer graph SPEC.json [--seq-len T] --out FILE(.html|.json)
    python -m designer export SPEC.json [--with-training] [--format module|ipynb|numpy]
    python -m designer sample --checkpoint CKPT [--temperature T] [--prompt TEXT] [--last]
    python -m designer lessons [--json]
    python -m designer lessons show NAME|FILE.json [--json]
    python -m designer lessons check [NAME | FILE.json] [--seed S] [--json]
    python -m designer lessons new A.json B.json --question TEXT --choice TEXT --choice TEXT
                       --answer N --verdict RULE [--title TEXT] [--step VIEW:TITLE:TEXT] --out FILE
    python -m designer bench [--json] [--quick]

Bad input exits with status 2 and one line per problem on stderr, never a traceback.
With --json, stdout carries JSON lines and nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from designer import i18n
from designer.document.spec import Experiment, Problem, SpecError
from designer.document.summary import summarize
from designer.i18n import Text, _
from designer.tasks import MAX_SEQ_LEN, TASKS, get_task, make_task
from designer.tasks.datafiles import allow_any_path


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def read_experiment(path: str, task: str | None = None, seed: int | None = None) -> Experiment:
    """Load SPEC.json ('-' reads standard input), with command-line overrides."""
    exp = Experiment.from_json(_read(path))
    if task is None and seed is None:
        return exp
    data = exp.to_dict()
    if task is not None:
        data["task"] = {"name": task}  # the other task's parameters do not apply
    if seed is not None:
        data["train"]["seed"] = seed
    return Experiment.from_dict(data)


# --- commands ------------------------------------------------------------------------
def cmd_tasks(args: argparse.Namespace) -> int:
    for name in TASKS:
        info = make_task(name).describe()
        if args.json:
            emit(info)
            continue
        params = ", ".join(f"{p['name']}={json.dumps(p['default'])}" for p in info["params"])
        print(f"{name:13s} {info['title']}")
        print(f"{'':13s} {info['lesson']}")
        print(f"{'':13s} " + _("parameters: {params}").format(params=params) + "\n")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    exp = read_experiment(args.spec)
    task = get_task(exp.task)
    summary = summarize(exp, task)
    if args.json:
        emit({"valid": True, "task": exp.task.name, **summary.to_dict()})
        return 0
    print(
        _("task: {name} ({title}); sequences of {n} steps").format(
            name=exp.task.name, title=_(task.title), n=task.seq_len
        )
    )
    headers = (_("layer"), _("type"), _("output shape"), _("parameters"), _("details"))
    print(f"{headers[0]:>5}  {headers[1]:10s} {headers[2]:16s} {headers[3]:>12}  {headers[4]}")
    for row in summary.rows:
        index = "" if row.index is None else str(row.index)
        params = f"{row.parameters:,}"
        if row.frozen and not row.trainable:
            params = _("{n} frozen").format(n=params)
        print(f"{index:>5}  {row.type:10s} {row.output_shape:16s} {params:>12}  {row.description}")
        for note in row.notes:
            print(f"{'':35s}{note}")
    if summary.frozen:
        line = _("total parameters: {total} ({frozen} frozen)").format(
            total=f"{summary.total:,}", frozen=f"{summary.frozen:,}"
        )
    else:
        line = _("total parameters: {total}").format(total=f"{summary.total:,}")
    print(line)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from designer.training.trainer import TrainingDiverged

    trainer = _trainer_to_run(args)
    exp = trainer.exp
    total = exp.train.steps if args.steps is None else args.steps
    steps = total - trainer.step_count  # a resumed run continues to the same total
    if total < 1:
        raise UsageError(Text("--steps must be at least 1"))
    if steps < 1:
        raise UsageError(Text("the checkpoint is already at step {step}", step=trainer.step_count))
    baseline = trainer.task.baseline_loss()
    bar = _progress_bar(args, steps)
    start = time.perf_counter()
    try:
        last = _train_steps(args, trainer, steps, baseline, bar)
    except TrainingDiverged as err:
        if args.json:
            emit({"event": "diverged", "step": err.step, "message": str(err)})  # in English
        print(str(err), file=sys.stderr)
        return 1
    if args.save:
        try:
            trainer.save(args.save)
        except OSError as err:
            raise UsageError(
                Text("cannot save {path}: {reason}", path=args.save, reason=err.strerror or err)
            ) from None
    done = _done_record(trainer, last, baseline, start)
    if args.json:
        emit(done)
    else:
        print(_done_line(done, trainer, args.save))
    return 0


def _trainer_to_run(args: argparse.Namespace) -> Any:
    """The trainer train runs: a checkpoint's (--resume) or a fresh one for SPEC."""
    import torch

    from designer.training.trainer import Trainer

    if args.threads < 1:
        raise UsageError(Text("--threads must be at least 1"))
    torch.set_num_threads(args.threads)
    if args.resume:
        return _resumed(args)
    if not args.spec:
        raise UsageError(Text("an experiment (SPEC) is required, or --resume CKPT"))
    exp = read_experiment(args.spec, task=args.task, seed=args.seed)
    return Trainer(exp, device=args.device, probes=False)


def _progress_bar(args: argparse.Namespace, steps: int) -> Any:
    """A progress bar on a terminal's stderr; None under --json or when piped."""
    if args.json or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=steps, unit="step", dynamic_ncols=True)


def _train_steps(
    args: argparse.Namespace, trainer: Any, steps: int, baseline: float, bar: Any
) -> dict[str, Any]:
    """Train `steps` steps, reporting each evaluation (and with --each-step each step);
    returns the last evaluation. A divergence closes the bar and propagates."""
    from designer.training.health import explosion_warning
    from designer.training.trainer import TrainingDiverged

    task = trainer.task
    say: Callable[[str], None] = bar.write if bar is not None else print
    last: dict[str, Any] = {}
    warned = False
    try:
        for record in trainer.run(steps):
            if record["event"] == "step":
                warning = None if warned else explosion_warning(trainer.history, baseline)
                if warning:  # once: the run-up to a divergence, before it happens
                    warned = True
                    if args.json:
                        emit({"event": "warning", "step": record["step"], "message": warning})
                    else:
                        say(
                            _("warning at step {step}: {warning}").format(
                                step=record["step"], warning=warning
                            )
                        )
                if args.json and args.each_step:
                    emit(record)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{record['loss']:.4g}", refresh=False)
                continue
            last = record
            if args.json:
                emit({**record, "metric": task.metric_name})
            else:
                say(
                    _("step {step}  train {train}  val {val}  {metric} {value}").format(
                        step=f"{record['step']:>6}",
                        train=f"{record['train_loss']:.4g}",
                        val=f"{record['val_loss']:.4g}",
                        metric=_(task.metric_name),
                        value=f"{record['val_metric']:.4g}",
                    )
                )
    except TrainingDiverged:
        if bar is not None:
            bar.close()
        raise
    if bar is not None:
        bar.close()
    return last


def _done_record(
    trainer: Any, last: dict[str, Any], baseline: float, start: float
) -> dict[str, Any]:
    """train's last line: where the run ended, beside the task's baselines."""
    task = trainer.task
    return {
        "event": "done",
        "step": trainer.step_count,
        "train_loss": last.get("train_loss"),
        "val_loss": last.get("val_loss"),
        "val_metric": last.get("val_metric"),
        "metric": task.metric_name,
        "baseline_loss": baseline,
        "baseline_metric": task.baseline_metric(),
        "loss_unit": task.loss_unit or None,  # charlm: bits per char, as its metric
        "best_step": trainer.best_step,  # the lowest validation loss: its weights are saved too
        "best_val_loss": trainer.best_val_loss,
        "clipped_steps": trainer.clipped_steps,
        "seconds": round(trainer.train_time, 3),  # inside training steps
        "wall_seconds": round(time.perf_counter() - start, 3),  # evaluations included
    }


def _done_line(done: dict[str, Any], trainer: Any, save: str | None) -> str:
    """The done record for people: one sentence, with the best step and the saved
    checkpoint where there are some."""
    task = trainer.task
    parts = {
        "steps": done["step"],
        "seconds": f"{done['seconds']:.1f}",
        "loss": f"{done['val_loss']:.4g}" + (f" {_(task.loss_unit)}" if task.loss_unit else ""),
        "baseline": f"{done['baseline_loss']:.4g}",
        "metric": _(task.metric_name),
        "value": f"{done['val_metric']:.4g}",
        "baseline_metric": f"{done['baseline_metric']:.4g}",
    }
    best = trainer.best_step is not None and trainer.best_step != trainer.step_count
    if best:
        parts.update(best_loss=f"{trainer.best_val_loss:.4g}", best_step=trainer.best_step)
    if best and save:
        line = _(
            "done: {steps} steps in {seconds} s; val loss {loss} (baseline {baseline}), "
            "{metric} {value} (baseline {baseline_metric}); lowest val loss {best_loss} at "
            "step {best_step}; saved {path}"
        )
    elif best:
        line = _(
            "done: {steps} steps in {seconds} s; val loss {loss} (baseline {baseline}), "
            "{metric} {value} (baseline {baseline_metric}); lowest val loss {best_loss} at "
            "step {best_step}"
        )
    elif save:
        line = _(
            "done: {steps} steps in {seconds} s; val loss {loss} (baseline {baseline}), "
            "{metric} {value} (baseline {baseline_metric}); saved {path}"
        )
    else:
        line = _(
            "done: {steps} steps in {seconds} s; val loss {loss} (baseline {baseline}), "
            "{metric} {value} (baseline {baseline_metric})"
        )
    return line.format(path=save, **parts)


def _resumed(args: argparse.Namespace) -> Any:
    """The trainer of a checkpoint (--resume), checked against SPEC if one is given."""
    from designer.training import checkpoints
    from designer.training.trainer import Trainer

    if args.task is not None or args.seed is not None:
        raise UsageError(Text("--task and --seed cannot change a resumed run"))
    try:
        saved = checkpoints.load(args.resume)
        if args.spec and read_experiment(args.spec) != saved.experiment:
            raise UsageError(Text("the checkpoint's experiment differs from the one in SPEC"))
        return Trainer.from_checkpoint(saved, device=args.device, probes=False)
    except checkpoints.CheckpointError as err:
        raise UsageError(
            Text("cannot resume from {path}: {reason}", path=args.resume, reason=err.text)
        ) from None


def _model_to_look_inside(args: argparse.Namespace) -> tuple[Experiment, Any, Any]:
    """(experiment, task, model) for probe and cell: a checkpoint's trained model
    (SPEC, if given too, may change the task's settings but not the model), or
    SPEC's untrained one."""
    from designer.training import checkpoints

    model = None
    if args.checkpoint:
        try:
            saved = checkpoints.load(args.checkpoint)
            exp, model = saved.experiment, saved.model()
        except checkpoints.CheckpointError as err:
            raise UsageError(
                Text(
                    "cannot load checkpoint {path}: {reason}", path=args.checkpoint, reason=err.text
                )
            ) from None
        if args.spec:
            spec = read_experiment(args.spec)
            if spec.model != exp.model:
                raise UsageError(Text("the checkpoint's model differs from the one in SPEC"))
            exp = spec
    elif args.spec:
        exp = read_experiment(args.spec)
    else:
        raise UsageError(Text("give SPEC.json, --checkpoint CKPT, or both"))
    task = get_task(exp.task)
    if model is None:
        from designer.training.model import build_model

        model = build_model(exp, task)
    return exp, task, model


def cmd_probe(args: argparse.Namespace) -> int:
    from designer.inside.probes import probe

    exp, task, model = _model_to_look_inside(args)
    seed = exp.train.seed if args.seed is None else args.seed
    result = probe(model, task, seed=seed)
    data = result.to_dict()
    layers = data["layers"]
    credit, paths, influence, memory = _probe_extras(args, model, task, seed, layers)
    if args.json:
        record = {"loss": data["loss"], "input_grad_norm": data["input_grad_norm"]}
        record["layers"] = layers
        if credit is not None:
            record["credit_rows"] = credit.rows
            record["credit_seconds"] = credit.seconds
        if influence is not None:
            described = influence.to_dict()
            for key in ("input_influence", "output_steps", "x"):
                record[key] = described[key]
            record["influence_seconds"] = influence.seconds
        emit(record)
        return 0
    _print_probe(result, task)
    if credit is not None:
        _print_credit(credit)
    if paths is not None:
        _print_paths(paths)
    if influence is not None:
        _print_influence(influence)
    _print_memory(memory or [])
    return 0


def _probe_extras(
    args: argparse.Namespace, model: Any, task: Any, seed: int, layers: list[dict]
) -> tuple[Any, Any, Any, Any]:
    """The measurements probe adds on request (--credit, --paths, --inputs, --memory),
    each None unless asked for; the per-layer ones are written into `layers` too."""
    credit = paths = None
    if args.credit:
        from designer.inside.credit import credit_matrix

        credit = credit_matrix(model, task, seed=seed)
        for entry, layer in zip(layers, credit.layers, strict=True):
            entry["credit"] = layer.matrix
    if args.paths:
        from designer.inside.credit import gradient_paths

        paths = gradient_paths(model, task, seed=seed)
        for entry, layer in zip(layers, paths, strict=True):
            described = layer.to_dict()
            entry["paths"] = {k: described[k] for k in ("above", "norms", "shares", "overall")}
    influence = None
    if args.inputs:
        from designer.inside.influence import input_influence

        influence = input_influence(model, task, seed=seed)
    memory = None
    if args.memory:
        from designer.inside.memory import memory_capacity

        memory = memory_capacity(model, task, seed=seed, noise=True)
        for entry, curve in zip(layers, memory, strict=True):
            entry["memory"] = {k: curve.to_dict()[k] for k in ("delays", "scores", "kind", "total")}
    return credit, paths, influence, memory


def _print_probe(result: Any, task: Any) -> None:
    """Per layer, how the gradient's size changes from the last step to the first."""
    print(
        _("probe loss {loss} on {n} samples of {title}").format(
            loss=f"{result.loss:.4g}", n=result.x.shape[0], title=_(task.title)
        )
    )
    for layer in result.layers:
        grads = layer.grad_norm
        ratio = grads[0] / grads[-1] if grads[-1] else float("nan")
        parts = {
            "index": layer.index,
            "type": layer.type,
            "first": f"{grads[0]:.3g}",
            "last": f"{grads[-1]:.3g}",
            "ratio": f"{ratio:.3g}",
            "mean": f"{sum(layer.hidden_norm) / len(layer.hidden_norm):.3g}",
        }
        if layer.directions == 2:
            line = _(
                "layer {index} ({type}, both directions): ||dL/dh_t|| first step {first}, "
                "last step {last} (ratio {ratio}); ||h_t|| mean {mean}"
            )
        else:
            line = _(
                "layer {index} ({type}): ||dL/dh_t|| first step {first}, "
                "last step {last} (ratio {ratio}); ||h_t|| mean {mean}"
            )
        print(line.format(**parts))


def _print_memory(memory: list[Any]) -> None:
    """Per recurrent layer, how well its state recalls the random input one step back,
    and its memory capacity in all."""
    for curve in memory:
        parts = {
            "index": curve.layer_index,
            "type": curve.layer_type,
            "score": f"{curve.scores[0]:.3g}",
            "total": f"{curve.total:.3g}",
        }
        if curve.kind == "features":
            line = _(
                "layer {index} ({type}): memory of random inputs, R² at k = 1: {score}, "
                "capacity {total}"
            )
        else:
            line = _(
                "layer {index} ({type}): memory of random inputs, accuracy at k = 1: {score}, "
                "capacity {total}"
            )
        print(line.format(**parts))


def _print_influence(influence: Any) -> None:
    """Per shown sample, the input steps the last output step draws on most."""
    from designer.inside.probes import listed

    t = influence.output_steps[-1]
    print(
        _(
            "influence ||dy_t/dx_k|| of each input step on {n} output steps ({seconds} s); "
            "--json prints it all"
        ).format(n=len(influence.output_steps), seconds=f"{influence.seconds:.2f}")
    )
    for sample in range(len(influence.influence)):
        row = influence.row(sample, t)
        total = sum(row) or 1.0
        top = sorted(range(len(row)), key=row.__getitem__, reverse=True)[:3]
        steps = listed([f"{k} ({row[k] / total:.0%})" for k in top])
        print(
            _("sample {sample}, output at step {t}: most influential input steps {steps}").format(
                sample=sample, t=t, steps=steps
            )
        )


def cmd_cell(args: argparse.Namespace) -> int:
    from designer.inside.cell import CellError, cell_step

    exp, task, model = _model_to_look_inside(args)
    seed = exp.train.seed if args.seed is None else args.seed
    try:
        step = cell_step(
            model,
            task,
            args.layer,
            args.step,
            sample=args.sample,
            direction=1 if args.direction == "backward" else 0,
            seed=seed,
        )
    except CellError as err:
        raise UsageError(err.text) from None
    if args.json:
        emit(step.to_dict())
        return 0
    for phase, operations in ((_("forward"), step.forward), (_("backward"), step.backward)):
        print(f"--- {phase}")
        for operation in operations:
            line = _(operation.words)
            if operation.norm is not None:
                line += f": ||{operation.norm[0]}|| = {operation.norm[1]:.4g}"
            print(line)
    print(
        _(
            "one step back multiplies the gradient's size by {gain} "
            "(the factor's largest stretch: {factor})"
        ).format(gain=f"{step.gain:.3g}", factor=f"{step.factor_norm:.3g}")
    )
    return 0


def _print_credit(credit: Any) -> None:
    """How far back each loss step reaches: per layer, the credit of the state k steps
    before the loss step, as a share of the credit at the loss step itself."""
    T = credit.seq_len
    print(
        _(
            "credit ||dL_t/dh_k|| over {n} loss steps of {T} ({seconds} s); "
            "--json prints the matrices"
        ).format(n=len(credit.rows), T=T, seconds=f"{credit.seconds:.2f}")
    )
    for layer in credit.layers:
        last = layer.matrix[credit.rows[-1]]
        reach = [f"{last[k]:.2g}" for k in sorted({T - 1, (T - 1) // 2, 0}, reverse=True)]
        print(
            _(
                "layer {index} ({type}): from the last loss step to states "
                "k = {last}, {middle}, 0: {reach}"
            ).format(
                index=layer.index,
                type=layer.type,
                last=T - 1,
                middle=(T - 1) // 2,
                reach=", ".join(reach),
            )
        )


def _print_paths(paths: list[Any]) -> None:
    """Each layer's gradient by route, as shares of its whole gradient."""
    for layer in paths:
        mean = layer.mean_shares()
        print(
            _(
                "layer {index} ({type}): dL/dh_k through time {time}, "
                "up from {above} {up}, around it (residual) {skip}"
            ).format(
                index=layer.index,
                type=layer.type,
                time=f"{mean['time']:.0%}",
                above=layer.above,
                up=f"{mean['up']:.0%}",
                skip=f"{mean['skip']:.0%}",
            )
        )


def cmd_graph(args: argparse.Namespace) -> int:
    from designer.inside.graph import unroll, visible_steps, write_json

    exp = read_experiment(args.spec)
    task = get_task(exp.task)
    seq_len = task.seq_len if args.seq_len is None else args.seq_len
    if not 1 <= seq_len <= MAX_SEQ_LEN:
        raise UsageError(Text("--seq-len must be between 1 and {limit}", limit=MAX_SEQ_LEN))
    out = Path(args.out)
    if out.suffix not in (".json", ".html"):
        raise UsageError(Text("--out must end in .json (node-link data) or .html (a figure)"))
    try:
        if out.suffix == ".json":
            G = unroll(exp, task, seq_len)
            write_json(G, str(out))
        else:
            from designer.figures.graph import graph_figure

            G = unroll(exp, task, seq_len, steps=visible_steps(seq_len))
            graph_figure(G).write_html(str(out), include_plotlyjs=True, full_html=True)
    except OSError as err:
        raise UsageError(
            Text("cannot write {path}: {reason}", path=out, reason=err.strerror or err)
        ) from None
    record = {
        "out": str(out),
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "seq_len": seq_len,
    }
    if args.json:
        emit(record)
    else:
        print(
            _("wrote {path}: {nodes} nodes, {edges} edges").format(
                path=out, nodes=f"{record['nodes']:,}", edges=f"{record['edges']:,}"
            )
        )
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from designer.training import checkpoints

    try:
        saved = checkpoints.load(args.checkpoint)
        best = saved.best is not None and not args.last
        model = saved.model(best=best)
    except checkpoints.CheckpointError as err:
        raise UsageError(
            Text("cannot load checkpoint {path}: {reason}", path=args.checkpoint, reason=err.text)
        ) from None
    task = get_task(saved.experiment.task)
    if not task.generates_text:
        raise UsageError(
            Text(
                "sampling needs a character language model (task charlm); this checkpoint's "
                "task is {name}",
                name=task.name,
            )
        )
    if not 1 <= args.length <= 10_000:
        raise UsageError(Text("--length must be between 1 and 10,000"))
    text = task.sample_text(model, args.prompt, args.length, args.temperature, args.seed)
    step = saved.best["step"] if best else saved.step
    if args.json:
        emit(
            {
                "prompt": args.prompt,
                "temperature": args.temperature,
                "text": text,
                "weights": "best" if best else "last",
                "weights_step": step,
            }
        )
    else:
        if best and step != saved.step:
            note = _(
                "sampling with the weights of step {step}, the best evaluation (validation "
                "loss {loss}); --last uses the last, of step {last}"
            ).format(step=f"{step:,}", loss=f"{saved.best['val_loss']:.4g}", last=f"{saved.step:,}")
        elif best:
            note = _("sampling with the last weights, of step {step}, the best evaluation").format(
                step=f"{step:,}"
            )
        else:
            note = _("sampling with the last weights, of step {step}").format(step=f"{step:,}")
        print(note, file=sys.stderr)
        print(args.prompt + text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from designer.export import codegen

    exp = read_experiment(args.spec)
    task = get_task(exp.task)
    try:
        if args.format == "numpy":
            code = codegen.numpy_code(exp, task)
        elif args.format == "ipynb":
            code = codegen.notebook(exp, task)
        elif args.with_training:
            code = codegen.training_code(exp, task)
        else:
            code = codegen.module_code(exp, task)
    except codegen.ExportError as err:
        raise UsageError(str(err)) from None
    sys.stdout.write(code)
    return 0


def _lesson(name: str) -> Any:
    """A built-in lesson by name, or a lesson document: a path, or anything ending .json."""
    from designer.lessons import LESSONS, read_lesson

    if name.endswith(".json") or "/" in name or name not in LESSONS and Path(name).is_file():
        return read_lesson(_read(name))
    if name not in LESSONS:
        raise UsageError(
            Text(
                "no lesson is called '{name}'; the lessons are {lessons}",
                name=name,
                lessons=", ".join(LESSONS),
            )
        )
    return LESSONS[name]


def _read(path: str) -> str:
    """A file's text ('-': standard input); a file that cannot be read is a UsageError."""
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err
        raise UsageError(Text("cannot read {path}: {reason}", path=path, reason=reason)) from None


def _training(lesson: Any, seed: int) -> str:
    """'Lesson 1: Why gates: training 2 run(s), seed 0' (a teacher's lesson: no number)."""
    if lesson.number:
        said = _("Lesson {number}: {title}: training {n} run(s), seed {seed}")
    else:
        said = _("{title}: training {n} run(s), seed {seed}")
    return said.format(number=lesson.number, title=_(lesson.title), n=len(lesson.runs), seed=seed)


def _heading(lesson: Any) -> str:
    """'Lesson 1: Why gates (Hochreiter & Schmidhuber (1997), ...)', or a teacher's
    lesson's title alone (it has no number) with its source, if any."""
    title, source = _(lesson.title), _(lesson.source)
    if lesson.number and source:
        return _("Lesson {number}: {title} ({source})").format(
            number=lesson.number, title=title, source=source
        )
    if lesson.number:
        return _("Lesson {number}: {title}").format(number=lesson.number, title=title)
    return _("{title} ({source})").format(title=title, source=source) if source else title


def cmd_lessons(args: argparse.Namespace) -> int:
    from designer.lessons import LESSONS

    for lesson in LESSONS.values():
        if args.json:
            emit(lesson.describe())
        else:
            print(f"{lesson.number}. {lesson.name:26s} {_(lesson.title)}")
            print(f"   {'':26s} {_(lesson.summary)}")
    return 0


def cmd_lessons_show(args: argparse.Namespace) -> int:
    """The lesson's experiments, one JSON document per line, ready for `train`."""
    lesson = _lesson(args.name)
    if args.json:
        for run in lesson.runs:
            emit(run.experiment().to_dict())
        return 0
    print(_heading(lesson))
    print(f"\n{_(lesson.prediction.question)}")
    for i, choice in enumerate(lesson.prediction.choices, 1):
        print(f"  {i}. {_(choice)}")
    for run in lesson.runs:
        print("\n" + _("Run {label}: {title}").format(label=run.label, title=_(run.title)))
        print(run.experiment().to_json(indent=None))
    return 0


def cmd_lessons_check(args: argparse.Namespace) -> int:
    """Train each lesson's runs and say whether its result appeared; exit 1 if not."""
    from designer.lessons import LESSONS
    from designer.lessons.check import check_lesson

    lessons = [_lesson(args.name)] if args.name else list(LESSONS.values())

    def progress(runners: dict) -> None:
        if not args.json:
            steps = ", ".join(
                _("{label} step {step}/{total}").format(
                    label=label, step=f"{r.record.step_count:,}", total=f"{r.total:,}"
                )
                for label, r in runners.items()
            )
            print(f"  ... {steps}", flush=True)

    failed = 0
    for lesson in lessons:
        # a fragile result is checked on each of its seeds, unless a seed is given
        for seed in [args.seed] if args.seed is not None else lesson.seeds:
            if not args.json:
                print(_training(lesson, seed))
            outcome = check_lesson(lesson, seed=seed, progress=progress, every=10.0)
            failed += not outcome.verdict.passed
            if args.json:
                emit(outcome.to_dict())
            else:
                if outcome.verdict.passed:
                    line = _("PASS in {seconds} s: {verdict}")
                else:
                    line = _("FAIL in {seconds} s: {verdict}")
                seconds = f"{outcome.seconds:.0f}"
                print("  " + line.format(seconds=seconds, verdict=outcome.verdict.text) + "\n")
    return 1 if failed else 0


def cmd_lessons_new(args: argparse.Namespace) -> int:
    """A lesson document from experiment files, the prediction and the rule, checked
    before it is written (every problem named, exit 2)."""
    from designer.lessons.base import VIEWS
    from designer.lessons.document import LABELS, new_lesson

    if not 1 <= len(args.experiments) <= len(LABELS):
        raise UsageError(
            Text("a lesson has 1 to 4 runs, got {n} experiment files", n=len(args.experiments))
        )
    if not 1 <= args.answer <= len(args.choice):
        raise UsageError(
            Text(
                "--answer is the number of a choice, 1 to {n}, got {got}",
                n=len(args.choice),
                got=args.answer,
            )
        )
    runs = [(Path(path).stem, _experiment_file(path)) for path in args.experiments]
    steps = []
    for step in args.step or []:
        view, _colon, rest = step.partition(":")
        title, _colon, text = rest.partition(":")
        view, _at, run = view.partition("@")
        if view not in VIEWS or not title:
            raise UsageError(
                Text(
                    "--step is VIEW:TITLE:TEXT with VIEW one of {views}, got '{got}'",
                    views=", ".join(VIEWS),
                    got=step[:80],
                )
            )
        steps.append({"title": title, "text": text, "view": view, **({"run": run} if run else {})})
    doc = new_lesson(
        runs,
        args.question,
        list(args.choice),
        args.answer - 1,
        args.verdict,
        steps or None,
        title=args.title or "",
        name=args.name or "",
        why=args.why or "",
    )
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(
            Text("cannot write {path}: {reason}", path=args.out, reason=err.strerror or err)
        ) from None
    print(
        _("wrote {path}: the lesson '{name}', {n} run(s)").format(
            path=args.out, name=doc["name"], n=len(runs)
        )
    )
    return 0


def _experiment_file(path: str) -> Experiment:
    """An experiment file of a new lesson; its problems name the file."""
    try:
        return Experiment.from_json(_read(path))
    except SpecError as err:
        raise SpecError(
            [Problem(p.path, p._message, f"{path}: {p.label}", p._whole) for p in err.problems]
        ) from None


def cmd_bench(args: argparse.Namespace) -> int:
    from bench import run_all

    for result in run_all(quick=args.quick, log=None if args.json else print):
        if args.json:
            emit(result)
    return 0


# --- parsing -------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(message)


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m designer", description=_("Deep RNN Designer, headless."))
    parser.add_argument(
        "--lang",
        choices=sorted(i18n.LANGUAGES),
        help=_(
            "the language of the output people read (default: from LANG); --json output "
            "is the same in every language"
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (
        _add_tasks,
        _add_validate,
        _add_train,
        _add_probe,
        _add_cell,
        _add_graph,
        _add_sample,
        _add_export,
        _add_lessons,
        _add_bench,
    ):
        add(sub)
    return parser


def _add_model_source(p: argparse.ArgumentParser) -> None:
    """SPEC and --checkpoint: the model probe and cell look inside."""
    p.add_argument("spec", nargs="?", help=_("experiment JSON (optional with --checkpoint)"))
    p.add_argument("--checkpoint", metavar="CKPT", help=_("a checkpoint saved by train --save"))


def _add_probe_seed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, help=_("which probe batch (default: the experiment's seed)"))


def _add_tasks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help=_("the sample tasks and their parameters"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tasks)


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help=_("check an experiment and print its summary"))
    p.add_argument("spec", help=_("experiment JSON file, or - for standard input"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help=_("train an experiment"))
    p.add_argument("spec", nargs="?", help=_("experiment JSON (optional with --resume)"))
    p.add_argument("--task", help=_("train on this task instead (with its default parameters)"))
    p.add_argument("--steps", type=int, help=_("number of steps (default: the experiment's)"))
    p.add_argument("--seed", type=int)
    p.add_argument("--save", metavar="CKPT", help=_("write a checkpoint here when done"))
    p.add_argument(
        "--resume",
        metavar="CKPT",
        help=_(
            "continue the run a checkpoint holds, to --steps in all (default: the "
            "experiment's steps): the same curve as an uninterrupted run"
        ),
    )
    p.add_argument(
        "--each-step",
        action="store_true",
        help=_(
            "with --json, a line for every training step too (loss, gradient norm before "
            "clipping, whether clipping acted): the run-up to a divergence, step by step"
        ),
    )
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), help=_("default: the experiment's"))
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help=_("CPU threads for torch (default 1, as in the app; more help only large models)"),
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)


def _add_probe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help=_("hidden states and dL/dh_t per layer and time step"))
    _add_model_source(p)
    _add_probe_seed(p)
    p.add_argument(
        "--credit",
        action="store_true",
        help=_(
            "add each recurrent layer's credit[t][k] = ||dL_t/dh_k|| (loss step t, state step k)"
        ),
    )
    p.add_argument(
        "--paths",
        action="store_true",
        help=_("add how dL/dh_k divides: through time, up through the layer above, around it"),
    )
    p.add_argument(
        "--memory",
        action="store_true",
        help=_(
            "add each recurrent layer's memory curve: R² (or accuracy) of a linear read-out "
            "of the random input k steps back"
        ),
    )
    p.add_argument(
        "--inputs",
        action="store_true",
        help=_(
            "add input_influence: ||dy_t/dx_k|| of each input step k on the output at step t, "
            "for the first samples of the probe batch"
        ),
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_probe)


def _add_cell(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cell", help=_("one cell at one time step: its arithmetic, both ways"))
    _add_model_source(p)
    p.add_argument("--layer", type=int, required=True, help=_("the layer's index in the stack"))
    p.add_argument("--step", type=int, required=True, help=_("the time step t"))
    p.add_argument("--sample", type=int, default=0, help=_("which sample of the probe batch"))
    p.add_argument("--direction", choices=("forward", "backward"), default="forward")
    _add_probe_seed(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cell)


def _add_graph(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graph", help=_("the network unrolled over time"))
    p.add_argument("spec")
    p.add_argument("--seq-len", type=int, help=_("time steps to unroll (default: the task's)"))
    p.add_argument("--out", required=True, help=_("FILE.json (node-link data) or FILE.html"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_graph)


def _add_sample(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help=_("text written by a trained character language model"))
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help=_("a charlm checkpoint"))
    p.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help=_("low: safe, repetitive text; high: adventurous (0 picks the likeliest letter)"),
    )
    p.add_argument("--prompt", default="The lighthouse", help=_("how the text starts"))
    p.add_argument("--length", type=int, default=300, help=_("characters to write"))
    p.add_argument("--seed", type=int, default=0, help=_("the same seed writes the same text"))
    p.add_argument(
        "--last",
        action="store_true",
        help=_(
            "use the run's last weights; by default those of its best evaluation (lowest "
            "validation loss) when the checkpoint has them"
        ),
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sample)


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help=_("the model as standalone code, on stdout"))
    p.add_argument("spec")
    p.add_argument(
        "--with-training",
        action="store_true",
        help=_(
            "a training script: the model, the task's data and the training loop (it "
            "also runs under torchrun --nproc_per_node=N)"
        ),
    )
    p.add_argument(
        "--format",
        choices=("module", "ipynb", "numpy"),
        default="module",
        help=_(
            "module: PyTorch code (default); ipynb: the training script as a notebook; "
            "numpy: the forward and backward passes by hand"
        ),
    )
    p.set_defaults(func=cmd_export)


def _add_lessons(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lessons", help=_("the classic results, one lesson each"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lessons)
    lessons = p.add_subparsers(dest="action", parser_class=_Parser)
    q = lessons.add_parser("show", help=_("a lesson's experiment documents"))
    q.add_argument("name", metavar="NAME|FILE.json")
    q.add_argument("--json", action="store_true", help=_("one experiment document per line"))
    q.set_defaults(func=cmd_lessons_show)
    q = lessons.add_parser("check", help=_("train a lesson's runs and check its result"))
    q.add_argument(
        "name", nargs="?", metavar="NAME|FILE.json", help=_("the lesson (default: every lesson)")
    )
    q.add_argument("--seed", type=int, help=_("this training seed (default: the lesson's seeds)"))
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_lessons_check)
    _add_lessons_new(lessons)


def _add_lessons_new(lessons: argparse._SubParsersAction) -> None:
    q = lessons.add_parser("new", help=_("a lesson document from experiment files"))
    q.add_argument("experiments", nargs="+", help=_("1 to 4 experiment files: runs A, B, C, D"))
    q.add_argument("--question", required=True, help=_("what the class predicts first"))
    q.add_argument("--choice", action="append", required=True, help=_("one answer (2 to 6)"))
    q.add_argument(
        "--answer", type=int, required=True, help=_("the number of the choice the result supports")
    )
    q.add_argument(
        "--verdict", required=True, help=_("the rule: did the result appear? (docs/lessons.md)")
    )
    q.add_argument("--title", help=_("default: the runs' names"))
    q.add_argument("--name", help=_("in links: a-z, 0-9 and '-' (default: from the title)"))
    q.add_argument("--why", help=_("the explanation shown once the runs have ended"))
    q.add_argument(
        "--step",
        action="append",
        metavar="VIEW:TITLE:TEXT",
        help=_("a step of the walk-through (VIEW@B for one run's view); default: curves, table"),
    )
    q.add_argument("--out", required=True, help=_("the lesson document to write, FILE.json"))
    q.set_defaults(func=cmd_lessons_new)


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help=_("performance figures"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help=_("fewer repetitions (a smoke test)"))
    p.set_defaults(func=cmd_bench)


def _asked_language(argv: list[str]) -> str:
    """The language --lang names (before the parser, whose help is in it), else LANG's;
    English where the output is --json."""
    if "--json" in argv:
        return "en"
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return i18n.language_from_environment()


def main(argv: list[str] | None = None) -> int:
    i18n.set_language(_asked_language(sys.argv[1:] if argv is None else list(argv)))
    parser = make_parser()
    args = None
    allow_any_path(True)  # the user's own machine: a path names the user's own file
    try:
        args = parser.parse_args(argv)
        # --json output is the same in every language; people read the rest in theirs
        chosen = args.lang or i18n.language_from_environment()
        i18n.set_language("en" if getattr(args, "json", False) else chosen)
        if args.command == "train" and args.task is not None and args.task not in TASKS:
            raise SpecError([Problem("task.name", Text("unknown task '{name}'", name=args.task))])
        return args.func(args)
    except SpecError as err:
        if getattr(args, "json", False):
            emit({"valid": False, "problems": [p.to_dict() for p in err.problems]})
        for problem in err.problems:
            print(_("error: {message}").format(message=problem), file=sys.stderr)
        return 2
    except UsageError as err:
        print(_("error: {message}").format(message=err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        return 130
    finally:
        allow_any_path(False)


if __name__ == "__main__":
    sys.exit(main())
