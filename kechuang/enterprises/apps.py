from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "kechuang.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprises")

    def ready(self):
        # Every save/delete that can change a figure computed from the register (a list
        # count, a computed indicator) moves its table's data version when it commits
        # (see versioning.py).
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kechuang.core.models import Jurisdiction
        from kechuang.enterprises import models
        from kechuang.enterprises.versioning import data_changed

        tables = {
            models.Enterprise: "enterprise",
            models.Qualification: "qual",
            models.AnnualReport: "report",
            models.WatchListMember: "watch",
            models.Industry: "reference",
            Jurisdiction: "reference",
        }

        def bump(sender, **kwargs):
            data_changed(tables.get(sender, "enterprise"))  # the sectors' through model

        for model in tables:
            uid = f"enterprises-version-{{}}-{model._meta.label}"
            post_save.connect(bump, sender=model, weak=False, dispatch_uid=uid.format("save"))
            post_delete.connect(bump, sender=model, weak=False, dispatch_uid=uid.format("del"))
        m2m_changed.connect(
            bump,
            sender=models.Enterprise.sectors.through,
            weak=False,
            dispatch_uid="enterprises-version-sectors",
        )
