"""API endpoints of the plans app (registered on the one router in kechuang/api_urls.py)."""


def register(router) -> None:
    """Register this app's viewsets on the shared router."""
