"""The experiment document and what can be said of it without torch: the schema and its
checks (spec), per-layer shapes and parameter counts (summary), ready-made documents
(presets), one-click contrasts between two documents (variants) and each layer type's
equations."""
