"""Navigation for the UI shell, filtered by what the user's role may open."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from kechuang.core.models import Role

# (label, url name, icon, roles that see it; None = every logged-in user)
NAV = [
    (_("Home"), "dashboard:home", "house", None),
    (_("Enterprises"), "enterprises:list", "buildings", (Role.COMMISSION, Role.STATION)),
    (_("My enterprise"), "enterprises:mine", "building", (Role.ENTERPRISE,)),
    (_("Policies for me"), "policies:mine", "patch-check", (Role.ENTERPRISE,)),
    (_("Import"), "imports:list", "upload", (Role.COMMISSION, Role.STATION)),
    (_("Policies"), "policies:list", "journal-text", None),
    (_("Rules"), "rules:list", "diagram-3", (Role.COMMISSION,)),
    (_("Plans"), "plans:list", "bullseye", (Role.COMMISSION, Role.STATION, Role.UNIT)),
    (_("My tasks"), "plans:tasks", "list-check", (Role.UNIT,)),
    (_("Audit log"), "core:audit", "clock-history", (Role.COMMISSION,)),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, icon, roles in NAV:
        if roles is not None and not (user.is_superuser or user.role in roles):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # module not installed yet
        items.append(
            {"label": label, "url": url, "icon": icon, "active": request.path.startswith(url)}
        )
    if items and items[0]["url"] == "/":
        items[0]["active"] = request.path == "/"
    return {"nav_items": items}
