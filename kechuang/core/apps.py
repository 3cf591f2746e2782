from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kechuang.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        # Failed logins and lock-outs happen inside django.contrib.auth and axes; their
        # signals are the only hook. The audit entry names the "auth" system actor.
        from kechuang.core.auth import connect_signals

        connect_signals()
