"""The bindings inventory beyond what the portal itself made: bindings
imported from clusters, and (beside it) drift between records and clusters."""
