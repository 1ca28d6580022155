"""The Graph page: the backward sweep over the unrolled network, a node's details and
one cell's step walked through."""
