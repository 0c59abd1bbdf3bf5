"""What more than one test folder uses: helpers, fixtures and request
builders, one module per concern. Folders' conftests import the fixtures
they need from here; tests import the helpers."""
