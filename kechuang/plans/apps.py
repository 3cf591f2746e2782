from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "kechuang.plans"
    label = "plans"
    verbose_name = _("Plans")

    def ready(self):
        # Computed indicators are cached under a data version; any save or delete of the
        # registers they read bumps it (bulk writes are caught by the version's fingerprint).
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kechuang.enterprises.models import AnnualReport, Enterprise, Qualification
        from kechuang.plans.aggregates import bump_data_version

        def bump(sender, **kwargs):
            bump_data_version(sender)  # per table: a new report keeps qualification figures

        for model in (Enterprise, Qualification, AnnualReport):
            # weak=False: `bump` is local to ready(); a weak reference let it be collected.
            uid = f"plans-bump-{{}}-{model.__name__}"
            post_save.connect(bump, sender=model, weak=False, dispatch_uid=uid.format("save"))
            post_delete.connect(bump, sender=model, weak=False, dispatch_uid=uid.format("del"))
        m2m_changed.connect(
            bump, sender=Enterprise.sectors.through, weak=False, dispatch_uid="plans-bump-sectors"
        )
