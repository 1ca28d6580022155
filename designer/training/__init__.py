"""Training a design: the document and its task made into a torch model (model), the
step-by-step Trainer and the record of a run (trainer), a run in a process of its own
(runner), signs of divergence (health), checkpoint files and their checks, and runs
side by side (compare)."""
