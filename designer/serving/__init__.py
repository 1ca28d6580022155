"""What a server shares between the sessions of a class: each link's runs on disk
(runstore), identical experiments trained once (shared_runs), how many trainings run at
once (slots), a class's predictions (tallies), and files written whole (atomic)."""
