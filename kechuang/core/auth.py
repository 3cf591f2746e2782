"""Authentication backend: the model backend, refusing system actors."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from kechuang.core.models import Role


class AccountBackend(ModelBackend):
    """Password login for people; system job actors (core.services.system_actor) never log in."""

    def user_can_authenticate(self, user) -> bool:
        return getattr(user, "role", None) != Role.SYSTEM and super().user_can_authenticate(user)
