from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "kechuang.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprises")

    def ready(self):
        # Every save/delete that can change which enterprises a list filter matches bumps
        # the register version, in the writer's transaction (see versioning.py).
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kechuang.core.models import Jurisdiction
        from kechuang.enterprises import models
        from kechuang.enterprises.versioning import register_changed

        def bump(sender, **kwargs):
            register_changed()

        for model in (
            models.Enterprise,
            models.Qualification,
            models.AnnualReport,
            models.WatchListMember,
            models.Industry,
            Jurisdiction,
        ):
            uid = f"enterprises-version-{{}}-{model._meta.label}"
            post_save.connect(bump, sender=model, weak=False, dispatch_uid=uid.format("save"))
            post_delete.connect(bump, sender=model, weak=False, dispatch_uid=uid.format("del"))
        m2m_changed.connect(
            bump,
            sender=models.Enterprise.sectors.through,
            weak=False,
            dispatch_uid="enterprises-version-sectors",
        )
