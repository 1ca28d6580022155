"""Which probe a page shows: the latest one of the session's training run when it
belongs to the current experiment, else a probe of the untrained model. The deeper
views (credit, paths, memory, what-if) read a model the same way."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass

import streamlit as st

from components.train.runs import current_run, run_matches
from designer import Experiment, build_model, get_task
from designer.i18n import _
from designer.inside.probes import ProbeResult, probe
from designer.training.model import RecurrentStack
from designer.training.runner import Runner


@st.cache_resource(max_entries=4, show_spinner=False)
def _initial_probe(token: str) -> ProbeResult:
    """A probe of the freshly initialised model; the same for everyone with this link."""
    exp = Experiment.from_url(token)
    task = get_task(exp.task)
    return probe(build_model(exp, task), task, seed=exp.train.seed)


def current_probe(exp: Experiment) -> tuple[ProbeResult, str]:
    """(probe, where it comes from, in words)."""
    run = current_run()
    if run is not None:
        last = run.record.last_probe
        same = run_matches(run, exp)
        if last is not None and same:
            return last, _("from training, step {step}").format(step=last.step)
    with st.spinner(_("Probing the untrained model step by step…")):
        return _initial_probe(exp.to_url()), _("of the untrained model (at initialisation)")


@dataclass
class Weights:
    """A private copy of the model the deeper views read, and where it comes from."""

    exp: Experiment  # the experiment the weights were trained (or built) for
    model: RecurrentStack
    source: str  # in words, for the page
    key: str  # the link and a digest of every weight: what results are cached under

    @classmethod
    def of(cls, exp: Experiment, model: RecurrentStack, source: str) -> Weights:
        return cls(exp, model, source, f"{exp.to_url()}|{weights_key(model)}")


def weights_key(model: RecurrentStack) -> str:
    """A short digest of every weight: the same link with other weights (another
    training step) is measured anew, the same weights (everyone's untrained model, a
    rerun) are not."""
    digest = hashlib.blake2b(digest_size=16)
    for name, value in model.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy())  # the raw bytes
    return digest.hexdigest()


def run_weights(runner: Runner) -> Weights:
    """A run's weights at its latest evaluation (a kept run's: where it ended)."""
    record = runner.record
    evals = record.history.evals
    step = evals[-1]["step"] if evals else record.step_count
    with runner.model_lock:
        model = copy.deepcopy(record.model)
    source = _("from training, step {step} (the weights of its latest evaluation)").format(
        step=f"{step:,}"
    )
    return Weights.of(record.exp, model, source)


def current_weights(exp: Experiment) -> Weights:
    """The weights of the session's run when it trains this experiment and has been
    evaluated, else the untrained model's."""
    run = current_run()
    if run is not None and run_matches(run, exp) and run.record.history.evals:
        return run_weights(run)
    model = build_model(exp, get_task(exp.task))
    return Weights.of(exp, model, _("of the untrained model (at initialisation)"))
