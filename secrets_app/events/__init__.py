"""What happened: the append-only audit log, and the follow-up work that runs
once a change has committed."""
