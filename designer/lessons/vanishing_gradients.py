"""Lesson 2: vanishing gradients through time (Bengio, Simard & Frasconi 1994)."""

from designer.i18n import N_, _
from designer.lessons.base import Lesson, Prediction, RunResult, Step, Verdict, number
from designer.lessons.shared import ADDING_LSTM, ADDING_RNN

# Lesson 1's two networks on its adding problem: the same shared runs.
RNN, LSTM = ADDING_RNN, ADDING_LSTM


def reach(result: RunResult) -> float:
    """||dL/dh_0|| / ||dL/dh_(T-1)|| in the last probe: the share of the gradient at the
    last step that reaches the first."""
    profile = result.gradient_profile("last")
    if not profile or profile[-1] == 0:
        return float("nan")
    return profile[0] / profile[-1]


def check(runs: dict[str, RunResult]) -> Verdict:
    rnn, lstm = reach(runs["A"]), reach(runs["B"])
    passed = rnn < 1e-3 and lstm > 1e-2 and lstm > 100 * rnn
    if passed and rnn > 0:
        said = _(
            "Of the gradient at the last step, the RNN passes {rnn} back to the first step; "
            "the LSTM passes {lstm}, {times} times more."
        )
    elif passed:
        said = _(
            "Of the gradient at the last step, the RNN passes {rnn} back to the first step; "
            "the LSTM passes {lstm}, and the RNN none at all."
        )
    else:
        said = _(
            "Of the gradient at the last step, the RNN passes {rnn} back to the first step; "
            "the LSTM passes {lstm}; the lesson looks for the RNN below 0.001 and the LSTM "
            "above 0.01."
        )
    times = number(lstm / rnn) if passed and rnn > 0 else ""
    text = said.format(rnn=number(rnn), lstm=number(lstm), times=times)
    return Verdict(passed, text, {"rnn_reach": rnn, "lstm_reach": lstm})


LESSON = Lesson(
    name="vanishing-gradients",
    number=2,
    needs=(1,),
    title=N_("Vanishing gradients through time"),
    source=N_(
        "Bengio, Simard & Frasconi (1994), Learning long-term dependencies with "
        "gradient descent is difficult"
    ),
    summary=N_(
        "Backpropagation through time multiplies one Jacobian per step: in a tanh RNN "
        "the product shrinks exponentially, and the first steps get no gradient at all."
    ),
    prediction=Prediction(
        question=N_(
            "After training on 50-step sequences, what share of the gradient at the "
            "last step reaches the FIRST step of the tanh RNN?"
        ),
        choices=(N_("about half"), N_("about a tenth"), N_("less than a thousandth")),
        answer=2,
        why=N_(
            "dL/dh_0 = dL/dh_49 · (dh_49/dh_48) ··· (dh_1/dh_0): 49 Jacobians, each "
            "diag(1 − h²) · W_hh. When their norms sit below 1 the product shrinks by a "
            "factor every step: exponentially in the distance. The LSTM's cell path "
            "multiplies by the forget gate instead, which can stay near 1."
        ),
    ),
    runs=(RNN, LSTM),
    steps=(
        Step(
            N_("The gradient profile"),
            N_(
                "||dL/dh_t|| for each step t, counted back from the last step, log scale. A "
                "straight falling line is exponential decay: the same factor lost every step."
            ),
            "gradients",
        ),
        Step(
            N_("Step by step, in the RNN"),
            N_(
                "The RNN's layer and its input over time, coloured by log ||dL/dh_t||. The "
                "colour drains away within a few columns of the last step: the loss cannot "
                "say anything to the early steps."
            ),
            "gradient-map",
            run="A",
        ),
        Step(
            N_("On the unrolled graph"),
            N_(
                "The RNN unrolled over time, each node coloured by the gradient that reaches "
                "it. Follow the recurrent edges back from the loss: the colour drains away."
            ),
            "graph",
            run="A",
        ),
    ),
    check=check,
    try_next=N_(
        "In Design, set the RNN's recurrent gain to 2 (or its init to orthogonal) and "
        "probe it before training: does the gradient still vanish, or explode?"
    ),
)
