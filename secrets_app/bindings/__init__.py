"""Bindings once they exist: the inventory (import from clusters, adoption),
drift between records and clusters, and expiry."""
