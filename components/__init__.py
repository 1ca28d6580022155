"""Streamlit UI pieces shared by the pages.

The app serves many sessions from one process: each page run and each training
thread is a Python thread that may call torch. OpenMP thread teams would multiply
(and spin while idle) with every one of them, so torch gets one thread per caller,
set here, before any page imports torch."""

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
