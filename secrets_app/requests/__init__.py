"""Access requests from filing to pull requests: the filing service, the state
machine (grants and revocations), who may do what, and the pull requests'
files and text."""
