"""The transformation programme: service providers, retrofit projects, on-site verification.

A pilot city's programme (DESIGN.md, "The programme") links per firm a baseline rating, a
retrofit project run by a service provider (服务商), an acceptance rating on the same framework
version, and an on-site verification by an assessor (评测机构). The self-reported assessment is
never overwritten: a verification stores its own answers and its own scored result beside it.

Dependencies: programmes → assessments → clusters; reports may read programmes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assessments.models import Assessment, FrameworkVersion
from clusters.models import BilingualName, Firm, Region
from clusters.validators import validate_phone, validate_uscc


class Provider(models.Model):
    """A service provider (服务商) in a region's register.

    The officials of `region` (and of the regions above it) manage the entry; `regions_served`
    says where the provider works, for the officials who pick one for a project.
    """

    class Kind(models.TextChoices):
        CHAIN_LEADER = "chain_leader", _("Chain leader")
        INTEGRATOR = "integrator", _("System integrator")
        PRODUCT = "product", _("Small, fast, light and precise product")

    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    products = models.TextField(_("products and services"), max_length=2000, blank=True)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="providers",
        verbose_name=_("register of"),
    )
    regions_served = models.ManyToManyField(
        Region, related_name="providers_serving", blank=True, verbose_name=_("regions served")
    )
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(
        _("contact telephone"), max_length=40, blank=True, validators=[validate_phone]
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class ProviderMember(models.Model):
    """A user who works for a provider: they see their provider's projects, nothing else."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="provider_memberships",
        verbose_name=_("user"),
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="members", verbose_name=_("provider")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "provider"], name="unique_provider_member"),
        ]
        verbose_name = _("provider member")
        verbose_name_plural = _("provider members")

    def __str__(self) -> str:
        return str(_("%(user)s at %(provider)s")) % {
            "user": self.user.get_username(),
            "provider": self.provider.name,
        }


class Programme(BilingualName, models.Model):
    """A city's transformation programme: one region, one framework version, one target.

    The target reads "`target_firms` firms at `target_level` or above by `target_date`"; the
    level is a level code of the programme's framework version (MIIT 2024: "L2").
    """

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="programmes", verbose_name=_("region")
    )
    framework_version = models.ForeignKey(
        FrameworkVersion,
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name=_("framework version"),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    target_level = models.CharField(_("target level"), max_length=40)
    target_firms = models.PositiveIntegerField(_("target number of firms"), default=0)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="programme_ends_after_start",
            ),
        ]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return self.name


class AssessorScope(models.Model):
    """Where an assessor (评测机构 staff) verifies: a region with its sub-regions, or one
    programme's project firms."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="assessor_scopes",
        verbose_name=_("user"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assessor_scopes",
        verbose_name=_("region"),
    )
    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assessor_scopes",
        verbose_name=_("programme"),
    )
    organisation = models.CharField(_("evaluation body"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(region__isnull=False, programme__isnull=True))
                | (Q(region__isnull=True, programme__isnull=False)),
                name="assessor_scope_region_xor_programme",
            ),
        ]
        verbose_name = _("assessor scope")
        verbose_name_plural = _("assessor scopes")

    def __str__(self) -> str:
        target = self.region if self.region_id else self.programme
        return str(_("%(user)s verifies in %(target)s")) % {
            "user": self.user.get_username(),
            "target": target,
        }


class RetrofitProject(models.Model):
    """A retrofit project (改造项目): one firm, one provider, one programme.

    The stage moves forward along `Stage` (or to abandoned); each move is a `StageChange` row.
    `baseline` (before) and `acceptance` (after) are the firm's own submitted assessments on the
    programme's framework version; services check that, never the form.
    """

    class Stage(models.TextChoices):
        DIAGNOSED = "diagnosed", _("Diagnosed")
        CONTRACTED = "contracted", _("Contracted")
        IN_PROGRESS = "in_progress", pgettext_lazy("project stage", "In progress")
        DELIVERED = "delivered", _("Delivered")
        ACCEPTED = "accepted", pgettext_lazy("project stage", "Accepted")
        ABANDONED = "abandoned", _("Abandoned")

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="projects", verbose_name=_("programme")
    )
    firm = models.ForeignKey(
        Firm, on_delete=models.PROTECT, related_name="projects", verbose_name=_("firm")
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="projects", verbose_name=_("provider")
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    # Question codes of the programme's framework version that the retrofit targets (for MIIT
    # 2024, its scenes).
    targeted_questions = models.JSONField(_("targeted questions"), default=list, blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    budget_10k_cny = models.DecimalField(
        _("budget (10k CNY)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    subsidy_10k_cny = models.DecimalField(
        _("subsidy (10k CNY)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    stage = models.CharField(
        _("stage"), max_length=12, choices=Stage.choices, default=Stage.DIAGNOSED, db_index=True
    )
    baseline = models.ForeignKey(
        Assessment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="baseline_of",
        verbose_name=_("baseline assessment"),
    )
    acceptance = models.ForeignKey(
        Assessment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acceptance_of",
        verbose_name=_("acceptance assessment"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    stage_changed_at = models.DateTimeField(_("stage changed at"), null=True, blank=True)
    accepted_at = models.DateTimeField(
        pgettext_lazy("project", "accepted at"), null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "firm"], name="unique_programme_firm"),
            models.CheckConstraint(
                condition=Q(subsidy_10k_cny__isnull=True)
                | Q(budget_10k_cny__isnull=True)
                | Q(subsidy_10k_cny__lte=models.F("budget_10k_cny")),
                name="project_subsidy_within_budget",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="project_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["programme", "stage"])]
        verbose_name = _("retrofit project")
        verbose_name_plural = _("retrofit projects")

    def __str__(self) -> str:
        return str(_("%(firm)s with %(provider)s (%(stage)s)")) % {
            "firm": self.firm.name,
            "provider": self.provider.name,
            "stage": self.get_stage_display(),
        }

    @property
    def is_closed(self) -> bool:
        """True once accepted or abandoned: the stage moves no more."""
        return self.stage in (self.Stage.ACCEPTED, self.Stage.ABANDONED)


class StageChange(models.Model):
    """One move of a project's stage: from where to where, by whom, when, and why."""

    project = models.ForeignKey(
        RetrofitProject,
        on_delete=models.CASCADE,
        related_name="stage_changes",
        verbose_name=_("project"),
    )
    from_stage = models.CharField(
        _("from stage"), max_length=12, choices=RetrofitProject.Stage.choices, blank=True
    )
    to_stage = models.CharField(_("to stage"), max_length=12, choices=RetrofitProject.Stage.choices)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        ordering = ["changed_at", "pk"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self) -> str:
        return str(_("%(project)s: %(from)s → %(to)s")) % {
            "project": self.project_id,
            "from": self.get_from_stage_display() or "—",
            "to": self.get_to_stage_display(),
        }


class ProviderRating(models.Model):
    """The firm's rating of its provider, given once, when the project is accepted."""

    SCALE = range(1, 6)

    project = models.OneToOneField(
        RetrofitProject, on_delete=models.CASCADE, related_name="rating", verbose_name=_("project")
    )
    score = models.PositiveSmallIntegerField(_("rating (1–5)"))
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rated by"),
    )
    rated_at = models.DateTimeField(_("rated at"))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="provider_rating_one_to_five"
            ),
        ]
        verbose_name = _("provider rating")
        verbose_name_plural = _("provider ratings")

    def __str__(self) -> str:
        return str(_("%(score)s/5 for %(provider)s")) % {
            "score": self.score,
            "provider": self.project.provider.name,
        }


class Verification(models.Model):
    """An assessor's on-site verification of one submitted self-assessment.

    The verified answers and the verified result live here, beside the self-report, which is
    never changed. Once completed, the verification and its assessment are locked.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", pgettext_lazy("verification status", "In progress")
        COMPLETED = "completed", _("Verified")

    assessment = models.OneToOneField(
        Assessment,
        on_delete=models.PROTECT,
        related_name="verification",
        verbose_name=_("assessment"),
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="verifications",
        verbose_name=_("assessor"),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=Status.choices,
        default=Status.IN_PROGRESS,
        db_index=True,
    )
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # The verified result, the same shape as Assessment.result; null until completed.
    result = models.JSONField(_("result"), null=True, blank=True)
    total = models.DecimalField(
        _("total score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    level = models.CharField(_("maturity level"), max_length=40, blank=True)
    level_rank = models.SmallIntegerField(_("level rank"), null=True, blank=True)
    basic = models.BooleanField(_("basic or above"), null=True, blank=True)
    advanced = models.BooleanField(_("advanced or above"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")

    def __str__(self) -> str:
        return str(_("verification of %(assessment)s (%(status)s)")) % {
            "assessment": self.assessment,
            "status": self.get_status_display(),
        }

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED


class VerifiedAnswer(models.Model):
    """The assessor's finding on one question: confirmed as self-reported, or changed.

    `value` is the verified answer; `changed` says whether it differs from the self-report,
    in which case `reason` is required (the service refuses a change without one).
    """

    verification = models.ForeignKey(
        Verification,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("verification"),
    )
    question_code = models.CharField(_("question"), max_length=80)
    value = models.JSONField(_("verified answer"), null=True)
    reported_value = models.JSONField(_("self-reported answer"), null=True)
    changed = models.BooleanField(_("changed"), default=False)
    reason = models.TextField(_("reason"), max_length=2000, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["verification", "question_code"], name="unique_verified_answer"
            ),
        ]
        verbose_name = _("verified answer")
        verbose_name_plural = _("verified answers")

    def __str__(self) -> str:
        return str(_("verified answer to %(question)s")) % {"question": self.question_code}


def _evidence_path(instance: Evidence, filename: str) -> str:
    # The stored name is generated (never the uploader's); the sanitised original name is kept
    # on the row for display only.
    return f"evidence/{instance.verification_id}/{filename}"


class Evidence(models.Model):
    """A file an assessor attached to one question: a photo, a PDF or a screenshot.

    Stored in the private media folder and served only through a permission-checked view.
    """

    verification = models.ForeignKey(
        Verification,
        on_delete=models.CASCADE,
        related_name="evidence",
        verbose_name=_("verification"),
    )
    question_code = models.CharField(_("question"), max_length=80)
    file = models.FileField(_("file"), upload_to=_evidence_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["question_code", "uploaded_at"]
        indexes = [models.Index(fields=["verification", "question_code"])]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return str(_("%(file)s for %(question)s")) % {
            "file": self.original_name,
            "question": self.question_code,
        }
