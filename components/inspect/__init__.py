"""The Inspect page: which probe it reads, and its views (hidden states and gradients,
credit, input influence, memory, what-if)."""
