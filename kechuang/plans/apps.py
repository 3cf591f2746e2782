from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "kechuang.plans"
    label = "plans"
    verbose_name = _("Plans")
    # Computed indicators are cached under the register's data versions
    # (kechuang.enterprises.versioning), which the enterprises app keeps.
