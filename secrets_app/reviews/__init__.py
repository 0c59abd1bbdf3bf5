"""Access reviews: opened on a schedule (``opening``), decided by the owning
teams (``decisions``), reminded (``reminders``) and closed at the deadline,
where what was not confirmed is revoked in the portal's name (``deadline``).
Pages read ``pages``; auditors get ``export``."""
