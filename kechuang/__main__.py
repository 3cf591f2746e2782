"""The `kechuang` console command: Django's manage.py under the project's name."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "kechuang"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
