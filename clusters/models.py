"""The register: regions, clusters, firms, memberships, and who belongs where."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clusters.validators import validate_phone, validate_uscc


class BilingualName:
    """A model with a Chinese name and an optional English one (`name_zh`, `name_en`).

    The one rule for such names: English when the language is English and there is an
    English name, else Chinese. `name` follows the active language (inside a report, the
    renderer's `translation.override`); `name_for` takes a language code.
    """

    name_zh: str
    name_en: str

    def name_for(self, language: str | None) -> str:
        """The name in the given language (a code such as "en" or "zh-hans")."""
        if (language or "").lower().startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def name(self) -> str:
        """The name in the active language."""
        return self.name_for(get_language())


class Region(BilingualName, models.Model):
    """An administrative area: province, city or county, in a tree."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    code = models.CharField(
        _("administrative code"), max_length=12, unique=True, null=True, blank=True
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent region"),
    )
    # Materialised path of ids, "/1/5/42/", so that a subtree is one indexed prefix query.
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False, default="")

    class Meta:
        ordering = ["path"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class Cluster(BilingualName, models.Model):
    """An industrial cluster, pilot city or park whose firms are assessed together."""

    class Kind(models.TextChoices):
        NATIONAL_ADVANCED = "national_advanced", _("National advanced manufacturing cluster")
        SME_CHARACTERISTIC = "sme_characteristic", _("SME characteristic industrial cluster")
        PILOT_CITY = "pilot_city", _("Digital transformation pilot city")
        INDUSTRIAL_PARK = "industrial_park", _("Industrial park")
        OTHER = "other", _("Other")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.OTHER)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="clusters", verbose_name=_("region")
    )
    lead_industry = models.CharField(_("lead industry (GB/T 4754 code)"), max_length=10, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")

    def __str__(self) -> str:
        return self.name


class Firm(models.Model):
    """A firm, identified by its Unified Social Credit Code."""

    class SizeClass(models.TextChoices):
        MICRO = "micro", _("Micro")
        SMALL = "small", _("Small")
        MEDIUM = "medium", _("Medium")
        LARGE = "large", _("Large")

    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("name"), max_length=200)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="firms",
        verbose_name=_("region"),
    )
    # GB/T 4754-2017: a section letter (A–T) and a two-digit division, e.g. "C" and "13".
    industry_section = models.CharField(_("industry section"), max_length=1, blank=True)
    industry_division = models.CharField(_("industry division"), max_length=2, blank=True)
    # The three-digit group, where known: the size table splits divisions 59 and 70 by group.
    industry_group = models.CharField(_("industry group"), max_length=3, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    revenue_10k_cny = models.DecimalField(
        _("annual revenue (10k CNY)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # Only three industries' size rows use total assets (see clusters/sizes.py).
    total_assets_10k_cny = models.DecimalField(
        _("total assets (10k CNY)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    size_class = models.CharField(
        _("size class"), max_length=10, choices=SizeClass.choices, blank=True, db_index=True
    )
    # The person the cluster office writes to: invitations and reminders go to contact_email.
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(
        _("contact telephone"), max_length=40, blank=True, validators=[validate_phone]
    )
    clusters = models.ManyToManyField(
        Cluster, through="ClusterMembership", related_name="firms", blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["industry_section", "industry_division"])]
        verbose_name = _("firm")
        verbose_name_plural = _("firms")

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"

    @property
    def industry_code(self) -> str:
        """The GB/T 4754 code as section and division, e.g. "C13"."""
        return f"{self.industry_section}{self.industry_division}"


class ClusterMembership(models.Model):
    """A firm belongs to a cluster from a start date."""

    cluster = models.ForeignKey(
        Cluster, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("cluster")
    )
    firm = models.ForeignKey(
        Firm, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("firm")
    )
    start_date = models.DateField(_("member since"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "firm"], name="unique_cluster_firm"),
        ]
        verbose_name = _("cluster membership")
        verbose_name_plural = _("cluster memberships")

    def __str__(self) -> str:
        return str(_("%(firm)s in %(cluster)s")) % {"firm": self.firm.name, "cluster": self.cluster}


class FirmMember(models.Model):
    """A user who answers for a firm."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="firm_memberships",
        verbose_name=_("user"),
    )
    firm = models.ForeignKey(
        Firm, on_delete=models.CASCADE, related_name="members", verbose_name=_("firm")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "firm"], name="unique_firm_member"),
        ]
        verbose_name = _("firm member")
        verbose_name_plural = _("firm members")

    def __str__(self) -> str:
        return str(_("%(user)s at %(firm)s (%(role)s)")) % {
            "user": self.user.get_username(),
            "firm": self.firm.name,
            "role": self.get_role_display(),
        }


class OfficialScope(models.Model):
    """What an official oversees: one cluster, or a region with all its sub-regions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="official_scopes",
        verbose_name=_("user"),
    )
    cluster = models.ForeignKey(
        Cluster,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="official_scopes",
        verbose_name=_("cluster"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="official_scopes",
        verbose_name=_("region"),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(cluster__isnull=False, region__isnull=True))
                | (Q(cluster__isnull=True, region__isnull=False)),
                name="official_scope_cluster_xor_region",
            ),
        ]
        verbose_name = _("official scope")
        verbose_name_plural = _("official scopes")

    def __str__(self) -> str:
        if self.cluster_id:
            target = str(_("cluster %(name)s")) % {"name": self.cluster}
        else:
            target = str(_("region %(name)s")) % {"name": self.region}
        return str(_("%(user)s oversees %(target)s")) % {
            "user": self.user.get_username(),
            "target": target,
        }


def _upload_path(instance: RegisterUpload, filename: str) -> str:
    return f"register-uploads/{instance.cluster_id}/{filename}"


class RegisterUpload(models.Model):
    """A register file an official uploaded: previewed first, imported on confirmation."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        IMPORTED = "imported", _("Imported")
        REJECTED = "rejected", _("Rejected")

    cluster = models.ForeignKey(
        Cluster, on_delete=models.CASCADE, related_name="uploads", verbose_name=_("cluster")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    file = models.FileField(_("file"), upload_to=_upload_path)
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("firms created"), default=0)
    updated = models.PositiveIntegerField(_("firms updated"), default=0)
    joined = models.PositiveIntegerField(_("firms added to the cluster"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("register upload")
        verbose_name_plural = _("register uploads")

    def __str__(self) -> str:
        return str(_("%(file)s for %(cluster)s (%(status)s)")) % {
            "file": self.original_name,
            "cluster": self.cluster,
            "status": self.get_status_display(),
        }
