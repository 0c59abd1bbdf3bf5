"""What the repository-backend tests and their fixtures agree on: the fake
GitHub's owner and token, and the files every test repository starts with."""

# Token-shaped, so that a leak would also be caught by pattern.
TOKEN = "ghp_" + "T0kenValue" * 3 + "abcdef"
OWNER = "acme"
BASE_FILES = {"README.md": "# infra\n", "modules/old.tf": "# to be deleted\n"}
