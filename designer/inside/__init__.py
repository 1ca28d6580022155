"""Looking inside a model: exact per-step hidden states, gates and gradients (probes),
where a gradient comes from (credit), which inputs the output uses (influence), one cell's
forward and backward step (cell), a network with a part silenced (whatif), how far back a
layer remembers (memory), and the network unrolled over time (graph)."""
