"""Who owns what: teams and the namespaces they own (``teams``), and the
claims that give every role, file and ServiceAccount one holder (``claims``)."""
