"""The Train page: the optimizer settings, the run's buttons and live changes, its
curves and what the model does, the runs kept and the live chart."""
