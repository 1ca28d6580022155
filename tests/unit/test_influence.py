"""The influence of each input step on the output, ||dy_t/dx_k||, against the
Jacobian of the fused model (PyTorch's own nn.LSTM/GRU/RNN, not the probe's
step-by-step graph), in float64."""

import pytest
import torch
from torch.autograd.functional import jacobian

from designer import Experiment, Trainer, build_model, get_task
from designer.inside import credit as credit_module
from designer.inside.influence import input_influence
from designer.inside.probes import probe_batch
from tests.helpers import experiment_doc, layer_doc

MIXED = experiment_doc(
    "sine", 7,
    layer_doc("gru", 4, bidirectional=True), layer_doc("lstm", 3, residual=True),
    layer_doc("attention"), layer_doc("rnn", 3, residual=True),
)  # fmt: skip
CAUSAL = {
    "task": {"name": "multivariate", "seq_len": 6, "channels": 3},
    "model": {
        "layers": [
            {"type": "lstm", "hidden_size": 4},
            {"type": "layernorm"},
            {"type": "gru", "hidden_size": 3, "residual": True},
        ]
    },
}
SENTIMENT = {
    "task": {"name": "sentiment", "seq_len": 8},
    "model": {"embedding_dim": 5, "layers": [{"type": "lstm", "hidden_size": 4}]},
}


def model_of(document):
    exp = Experiment.from_dict(document)
    task = get_task(exp.task)
    return build_model(exp, task).double().eval(), task


def fused(model, encoded):
    """The model's own forward (fused kernels) from its encoded input (T, F)."""
    h = encoded[None]
    for layer in model.layers:
        h = layer(h)
    if not model.per_step:
        h = h[:, -1]
    return model.head(h)[0]


def reference(model, task, samples):
    """||dy_t/dx_k|| by the full Jacobian of the fused forward: (S, T_out, T_in)."""
    x, _ = probe_batch(model, task)
    out = []
    for s in range(samples):
        encoded = model.encode(x[s : s + 1])[0].detach().double()
        J = jacobian(lambda e: fused(model, e), encoded)  # (T, out, T, F) or (out, T, F)
        if not task.per_step:
            J = J[None]
        if task.kind == "classification":
            pred = fused(model, encoded)
            pred = pred if task.per_step else pred[None]
            chosen = pred.argmax(-1)  # (T_out,)
            J = J[torch.arange(J.shape[0]), chosen][:, None]
        out.append(J.pow(2).sum(dim=(1, 3)).sqrt())  # (T_out, T_in)
    return torch.stack(out)


@pytest.mark.parametrize("document", [MIXED, CAUSAL, SENTIMENT], ids=["mixed", "causal", "tokens"])
def test_influence_equals_the_jacobian_of_the_fused_model(document):
    model, task = model_of(document)
    result = input_influence(model, task, samples=3)
    expected = reference(model, task, 3)
    steps = result.output_steps
    assert steps == (list(range(task.seq_len)) if task.per_step else [task.seq_len - 1])
    got = torch.tensor(result.influence, dtype=torch.float64)  # (S, steps, T)
    rows = expected[:, steps] if task.per_step else expected
    torch.testing.assert_close(got, rows, rtol=1e-7, atol=1e-12)
    assert got.abs().sum() > 0


def test_a_causal_stack_cannot_use_a_later_input():
    model, task = model_of(CAUSAL)
    result = input_influence(model, task, samples=2)
    for sample in result.influence:
        for t, row in zip(result.output_steps, sample, strict=True):
            assert all(v == 0 for v in row[t + 1 :])
            assert row[t] > 0


def test_a_bidirectional_layer_sees_both_ways():
    model, task = model_of(MIXED)
    result = input_influence(model, task, samples=1)
    first = result.row(0, 0)
    assert all(v > 0 for v in first)  # the first output reads the last input


def test_passes_that_share_copies_give_the_same_numbers(monkeypatch):
    model, task = model_of(CAUSAL)
    whole = input_influence(model, task, samples=2)
    monkeypatch.setattr(credit_module, "CREDIT_ELEMENTS", 1)  # one output step per pass
    one_by_one = input_influence(model, task, samples=2)
    assert one_by_one.passes == len(one_by_one.output_steps) > whole.passes
    torch.testing.assert_close(
        torch.tensor(one_by_one.influence), torch.tensor(whole.influence), rtol=1e-9, atol=0
    )


def test_only_scored_steps_are_output_steps_and_the_record_can_be_recomputed():
    document = {
        "task": {"name": "copy", "symbols": 3, "lag": 4},
        "model": {"layers": [{"type": "gru", "hidden_size": 4}]},
    }
    exp = Experiment.from_dict(document)
    task = get_task(exp.task)
    model = build_model(exp, task)
    _, y = probe_batch(model, task)
    result = input_influence(model, task, samples=2).to_dict()
    scored = sorted(set((y != -100).any(0).nonzero().flatten().tolist()))
    assert result["output_steps"] == scored
    assert len(result["input_influence"]) == 2
    assert len(result["input_influence"][0]) == len(scored)
    assert len(result["input_influence"][0][0]) == task.seq_len
    assert result["x"] == probe_batch(model, task)[0][:2].tolist()


def test_the_model_is_left_as_it_was():
    model, task = model_of(MIXED)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    input_influence(model, task, samples=1)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.slow
def test_a_trained_lstm_looks_at_the_marked_steps_a_plain_rnn_does_not():
    """The adding problem: the answer is the sum of two marked values, so a model that
    has learned it draws on those two steps far more than on the others."""

    def trained(kind):
        exp = Experiment.from_dict(
            {
                "task": {"name": "adding", "seq_len": 30},
                "model": {"layers": [{"type": kind, "hidden_size": 32}]},
                "train": {"lr": 0.01, "steps": 600, "batch_size": 64, "eval_every": 600},
            }
        )
        trainer = Trainer(exp)
        for _ in trainer.run(steps=600):
            pass
        return trainer.model, trainer.task

    def focus(model, task):
        """Mean share of all influence that falls on the two marked steps."""
        result = input_influence(model, task, samples=4)
        shares = []
        for s, sample in enumerate(result.influence):
            row = torch.tensor(sample[0])
            marked = result.x[s, :, 1] > 0.5
            shares.append(float(row[marked].sum() / row.sum()))
        return sum(shares) / len(shares)

    lstm, rnn = focus(*trained("lstm")), focus(*trained("rnn"))
    assert lstm > 0.5, lstm  # two of thirty steps carry most of what the output uses
    assert lstm > 2 * rnn, (lstm, rnn)
