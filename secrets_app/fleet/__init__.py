"""Fleet upgrades: every live binding's files in the repositories follow the
renderer. ``check`` re-renders each binding and compares with the
repositories' trees, ``diffs`` shows what differs, ``upgrades`` opens one
pull request per cluster and repository, ``tracking`` follows them and
records, once merged, that the bindings' files are current."""
