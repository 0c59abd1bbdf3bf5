#!/usr/bin/env python
"""Django's command-line utility. Defaults to production settings, which refuse
to start without their required environment; the demo and the tests choose
their own settings module."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
