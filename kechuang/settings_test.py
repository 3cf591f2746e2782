"""Settings for the test suite: production settings with fast hashing and no TLS redirects."""

import os

os.environ.setdefault(
    "SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEF"
)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from kechuang.settings import *  # noqa: E402,F403

# Argon2 is the production hasher; the test suite creates many users, so it
# uses a fast one (a test checks the production setting separately).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = True
