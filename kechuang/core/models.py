"""Shared registers: jurisdictions, users and roles, the audit log, notifications.

Every business record in other apps inherits `BusinessModel`, so it gets
timestamps and a `visible_to(user)` queryset by inheriting, not by remembering.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# ---------------------------------------------------------------------------
# Jurisdictions: district -> town/street -> park
# ---------------------------------------------------------------------------


class JurisdictionLevel(models.TextChoices):
    DISTRICT = "district", _("District")
    TOWN = "town", _("Town / street")
    PARK = "park", _("Park")


class Jurisdiction(models.Model):
    """A node of the 三级科技工作网络; scoped users see the subtree under theirs."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=JurisdictionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path ("/310112/310112101/") so a subtree is one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        prefix = self.parent.path if self.parent_id else "/"
        self.path = f"{prefix}{self.code}/"
        super().save(*args, **kwargs)

    def subtree(self) -> models.QuerySet[Jurisdiction]:
        return Jurisdiction.objects.filter(path__startswith=self.path)


# ---------------------------------------------------------------------------
# Users and roles
# ---------------------------------------------------------------------------


class Role(models.TextChoices):
    COMMISSION = "commission", _("Commission staff")
    STATION = "station", _("Service-station staff")
    ENTERPRISE = "enterprise", _("Enterprise user")
    EXPERT = "expert", _("Expert")
    INSTITUTION = "institution", _("Institution / carrier operator")
    UNIT = "unit", _("Responsible unit")
    PUBLIC = "public", _("Public")
    # A named background job (core.services.system_actor); cannot log in.
    SYSTEM = "system", _("System job")


class User(AbstractUser):
    """A person who logs in. The role decides what they see; the links narrow it."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.PUBLIC)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("mobile"), max_length=20, blank=True)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("Station staff see this node and everything under it."),
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        help_text=_("Enterprise users see and act for this enterprise only."),
    )
    # Set by an administrator's password reset: the one-time password must be replaced.
    must_change_password = models.BooleanField(_("must change password"), default=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_system(self) -> bool:
        """A system job's actor (core.services.system_actor): full scope, never logs in."""
        return self.role == Role.SYSTEM

    @property
    def is_commission(self) -> bool:
        # System actors act with commission scope; they exist only where code asks
        # for one by job name, and no backend lets them log in.
        return self.is_active and (self.is_superuser or self.role in (Role.COMMISSION, Role.SYSTEM))

    @property
    def is_station(self) -> bool:
        return self.is_active and self.role == Role.STATION and self.jurisdiction_id is not None

    @property
    def is_staff_member(self) -> bool:
        """Commission or station staff: the people who work the registers."""
        return self.is_commission or self.is_station


# ---------------------------------------------------------------------------
# Business model base: timestamps and scoped querysets
# ---------------------------------------------------------------------------


class ScopedQuerySet(models.QuerySet):
    """Querysets narrowed to what a user may see or change.

    Subclasses set `jurisdiction_path_field` (a lookup to Jurisdiction.path)
    and/or `enterprise_field` (a lookup to the Enterprise id) and may override
    `visible_to` entirely. Anything not granted is denied.
    """

    jurisdiction_path_field: str | None = None
    enterprise_field: str | None = None

    def visible_to(self, user, action: str = "view") -> ScopedQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_commission:
            return self
        if user.is_station and self.jurisdiction_path_field:
            return self.filter(
                **{f"{self.jurisdiction_path_field}__startswith": user.jurisdiction.path}
            )
        if (
            user.role == Role.ENTERPRISE
            and self.enterprise_field
            and getattr(user, "enterprise_id", None)
        ):
            return self.filter(**{self.enterprise_field: user.enterprise_id})
        return self.none()


class Versioned(models.Model):
    """A row version, raised by one on every update through `core.services.update_record`,
    so an edit made on an old copy of the record is refused instead of overwriting."""

    # db_default: rows inserted outside the ORM (COPY imports, the demo writer) start at 1 too.
    row_version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)

    class Meta:
        abstract = True


class BusinessModel(Versioned):
    """Base of every register record: timestamps, row version, scoping, audit field list."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    # Fields never shown in audit diffs (they change on every save).
    audit_exclude: tuple[str, ...] = ("created_at", "updated_at", "row_version")

    class Meta:
        abstract = True


# ---------------------------------------------------------------------------
# Audit log
# ---------------------------------------------------------------------------


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    EVENT = "event", _("Event")


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("Audit entries cannot be changed.")

    def delete(self):
        raise PermissionDenied("Audit entries cannot be deleted.")

    def for_object(self, obj) -> AuditQuerySet:
        ct = ContentType.objects.get_for_model(obj.__class__)
        return self.filter(content_type=ct, object_id=str(obj.pk))

    def visible_to(self, user) -> AuditQuerySet:
        # Only commission staff read the global log; per-object history is
        # shown by the object's own page after its own permission check.
        if user is not None and user.is_authenticated and user.is_commission:
            return self
        return self.none()


class AuditEntry(models.Model):
    """Who changed what, when, and how (before -> after). Append-only."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    via = models.CharField(_("via"), max_length=16, blank=True)  # ui, api, import, command, task
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(_("object"), max_length=255)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    event = models.CharField(_("event"), max_length=64, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # HMAC-SHA256 of the fields above with AUDIT_KEY (core.auditchain), set when written.
    mac = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("Audit entries cannot be changed.")
        from kechuang.core import auditchain

        self.mac = auditchain.mac_of(self)
        super().save(*args, **kwargs)
        auditchain.seal_after_commit(self.pk)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Audit entries cannot be deleted.")


class AuditSealQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("Audit seals cannot be changed.")

    def delete(self):
        raise PermissionDenied("Audit seals cannot be deleted.")


class AuditSeal(models.Model):
    """One link of the audit seal chain: an entry's MAC, appended after its commit. Append-only.

    hash = SHA-256(seq, prev_hash, entry_id, mac); chain order is seal order (core.auditchain).
    The entry is referenced by id, not by a foreign key, so deleting it leaves the seal.
    """

    seq = models.BigIntegerField(primary_key=True)
    entry_id = models.BigIntegerField(unique=True)
    mac = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    objects = AuditSealQuerySet.as_manager()

    def __str__(self) -> str:
        return f"seal {self.seq} of entry #{self.entry_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionDenied("Audit seals cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Audit seals cannot be deleted.")


class AuditSealHead(models.Model):
    """The one row that ends the seal chain: last position, its hash, seal count.

    Only the sealer locks it (never an audited writer); verification compares it with the
    seals, so removed seals at the end are found (core.auditchain).
    """

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    count = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"audit seals at {self.seq} ({self.hash[:12]}…)"


# ---------------------------------------------------------------------------
# Notifications (in-app) and the e-mail outbox
# ---------------------------------------------------------------------------


class Notification(models.Model):
    """An in-app message to one user; e-mail copies go through OutboxEmail."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=32, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")

    def __str__(self) -> str:
        return self.title


class OutboxEmail(models.Model):
    """E-mail queued for delivery; the record of what was sent and whether it went."""

    created_at = models.DateTimeField(default=timezone.now)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


# ---------------------------------------------------------------------------
# Background workers: the heartbeat /healthz reads (kechuang.core.health)
# ---------------------------------------------------------------------------


class WorkerHeartbeat(models.Model):
    """The last sign of life of one `kechuang worker` process; operational, not audited."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid} ({self.worker_id})"


# ---------------------------------------------------------------------------
# Bulk imports (.xlsx / .csv): the uploaded file, its dry-run report and outcome
# ---------------------------------------------------------------------------


def _import_upload_to(instance, filename: str) -> str:
    # The original name is kept in ImportJob.original_name; the stored name only
    # keeps the extension, so odd characters in officers' file names never matter.
    suffix = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"imports/{timezone.now():%Y/%m}/{instance.kind}-{timezone.now():%d%H%M%S%f}.{suffix}"


class ImportMode(models.TextChoices):
    VALID_ROWS = "valid_rows", _("Apply all valid rows, skip the rejected ones")
    ALL_OR_NOTHING = "all_or_nothing", _("Apply nothing unless every row is valid")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    VALIDATING = "validating", _("Checking")
    VALIDATED = "validated", _("Checked")
    APPLYING = "applying", _("Applying")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view") -> ImportJobQuerySet:
        """Commission staff see every job; station staff the jobs of their subtree."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_commission:
            return self
        if user.is_station:
            return self.filter(jurisdiction__path__startswith=user.jurisdiction.path)
        return self.none()


class ImportJob(models.Model):
    """One uploaded file for a bulk import: kept with its dry-run report and its outcome."""

    kind = models.CharField(_("kind"), max_length=32)
    mode = models.CharField(
        _("mode"), max_length=16, choices=ImportMode.choices, default=ImportMode.VALID_ROWS
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    file = models.FileField(_("file"), upload_to=_import_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The uploader's jurisdiction for station staff (scopes the job list); None for commission.
    jurisdiction = models.ForeignKey(
        Jurisdiction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now, db_index=True)
    validated_at = models.DateTimeField(_("checked"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    error_rows = models.PositiveIntegerField(_("rejected rows"), default=0)
    warning_rows = models.PositiveIntegerField(_("rows with warnings"), default=0)
    # What the dry run found: rows that would be created / updated / left unchanged.
    planned = models.JSONField(default=dict, blank=True)
    # What the last apply did: {"created": n, "updated": n, "unchanged": n, "skipped": n}.
    outcome = models.JSONField(default=dict, blank=True)
    # [[row, column, severity, message], ...] in row order (capped, see problems_truncated).
    problems = models.JSONField(default=list, blank=True)
    problems_truncated = models.BooleanField(default=False)
    # Problems found beyond the stored ones (IMPORT_MAX_STORED_PROBLEMS): only counted.
    problems_omitted = models.PositiveIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)  # why the whole file was refused
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)  # percent
    progress_note = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Last sign of life of a running check/apply; a job silent for too long is failed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"#{self.pk} {self.original_name}"

    @property
    def is_running(self) -> bool:
        return self.status in (
            ImportStatus.PENDING,
            ImportStatus.VALIDATING,
            ImportStatus.APPLYING,
        )


# Where imported records came from (kechuang.core.imports); a core model.
from kechuang.core.imports.models import ImportedRecords  # noqa: E402, F401
