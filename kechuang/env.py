"""Strict parsing of settings from environment variables.

A bad value stops start-up with the variable's name, so a typo in a
deployment never silently falls back to an unsafe default.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Stands in for SECRET_KEY in commands that serve nothing; the "django-insecure-" prefix makes
# `check --deploy` report it (security.W009), and serving processes refuse it.
OFFLINE_SECRET_KEY = "django-insecure-offline-commands-only-set-SECRET_KEY-to-serve-0123456789"

# Management commands that serve requests or run background tasks.
SERVING_COMMANDS = frozenset({"runserver", "testserver", "db_worker", "worker"})


def is_serving_command(argv: list[str]) -> bool:
    """True when this process is `kechuang <command>` / manage.py for a serving command."""
    return len(argv) > 1 and argv[1] in SERVING_COMMANDS


def require_secret_key(secret_key: str) -> None:
    """Stop a serving process that would sign sessions with the offline placeholder."""
    if secret_key == OFFLINE_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to serve with DEBUG off (set DEBUG=1 for a development "
            "server); commands that serve nothing run without it"
        )
