"""The exported notebook, as a real file that runs as it is (it trains the small
experiment of designer/export/train_script.py and writes checkpoint.pt where it runs).

codegen.notebook splits it at its `# %%` markers into cells: a `# %% [markdown]` cell's
comment lines become the markdown, with {title}, {description} and {scored} filled in
from the experiment; a code cell named after a part of the training script (imports,
model, task, settings, training) becomes that part, in place of the stand-in here; a
code cell with no name is copied as it is. Nothing above the first marker is copied."""

# %% [markdown]
# # {title}
#
# Exported from Deep RNN Designer. {description}
#
# Run the cells from top to bottom: the last one trains the model as the app does and
# writes `checkpoint.pt`, which the app opens (Train, Runs kept).

# %% imports
import designer.export.train_script as script  # the stand-in of the script's imports

# %% [markdown]
# ## The model
#
# One class per kind of layer, then `Model`: the layer stack bottom to top. Each line
# of `Model.__init__` is a card of the app's layer stack, with the widths it maps
# between; the prediction is scored {scored}.

# %% model
Model = script.Model

# %% [markdown]
# ## The task
#
# The app's own code for the task: how each batch of sequences is drawn (the same
# batches for the same seed), the loss and the metric.

# %% task
TASK = script.TASK

# %% [markdown]
# ## The settings
#
# The experiment's training settings, as in the app.

# %% settings
STEPS = script.STEPS

# %% [markdown]
# ## Training
#
# Each step draws a batch, computes the loss, backpropagates, measures the gradient
# norm, clips it if it is too large and updates the weights. Every few steps the model
# is evaluated on a fixed validation batch.

# %% training
train = script.train

# %% [markdown]
# ## Train it
#
# Fewer steps for a quick look: `train(200)`.

# %%
train(STEPS, "checkpoint.pt")
