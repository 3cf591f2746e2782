"""One permission layer for views, API and exports.

Lists come from `Model.objects.visible_to(user, action)`; single objects from
`get_object_for_user`, which answers "missing" and "forbidden" with the same
404 so that ids cannot be probed.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kechuang.core.models import Role


def get_object_for_user(model, user, pk, action: str = "view"):
    try:
        return model.objects.visible_to(user, action).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {model._meta.verbose_name} found") from None


def check_visible(obj, user, action: str = "change") -> None:
    """Raise PermissionDenied unless `obj` is inside what `user` may touch.

    Services call this before and after a write, so a change cannot move a
    record out of (or into) the user's scope.
    """
    model = obj.__class__
    if obj.pk is None or not model.objects.visible_to(user, action).filter(pk=obj.pk).exists():
        raise PermissionDenied("This record is outside what you may change.")


def has_role(user, *roles: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.role == Role.SYSTEM:
        return True  # system actors have full scope (core.services.system_actor)
    return user.role in roles


def role_required(*roles: str):
    """View decorator: only these roles (superusers always) get in; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.access = "roles"
        wrapped.allowed_roles = roles
        return wrapped

    return decorator


STAFF_ROLES = (Role.COMMISSION, Role.STATION)


def open_to_any_user(view):
    """Declare that every logged-in user may open this page (it scopes its own content).

    The URL-walk test refuses any view that is neither public
    (`login_not_required`), role-guarded, nor declared with this marker.
    """
    view.access = "authenticated"
    return view
