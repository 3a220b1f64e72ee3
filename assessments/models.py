"""Frameworks and their versions, rounds, invitations, assessments, answers and results."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from assessments.framework import text
from clusters.models import Cluster, Firm


def active_language() -> str:
    """The active language as framework texts key it: lower case, "zh-hans" when none is set."""
    return (get_language() or "zh-hans").lower()


class Framework(models.Model):
    """A maturity model, such as MIIT 2024; its content lives in its versions."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title = models.JSONField(_("title"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("framework")
        verbose_name_plural = _("frameworks")

    def __str__(self) -> str:
        return text(self.title, active_language()) or self.slug


class FrameworkVersionQuerySet(models.QuerySet["FrameworkVersion"]):
    def published(self) -> FrameworkVersionQuerySet:
        return self.filter(status=FrameworkVersion.Status.PUBLISHED)


class FrameworkVersion(models.Model):
    """One version of a framework: the validated definition, immutable once published."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="versions", verbose_name=_("framework")
    )
    version = models.CharField(_("version"), max_length=40)
    title = models.JSONField(_("title"), default=dict)
    source = models.TextField(_("source"), blank=True)
    # The definition as loaded from the file (FRAMEWORK_FORMAT.md), after validation.
    definition = models.JSONField(_("definition"))
    # SHA-256 of the canonical JSON of `definition`: equal content, equal hash.
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # The format (FRAMEWORK_FORMAT.md) rejects unknown keys, so a file cannot declare this: it
    # is set when a version is published (`load_frameworks --comparable`). It names an earlier
    # version of the same framework whose levels mean the same, so that reports may show a
    # change between rounds on the two versions. Metadata, not content: the hash ignores it.
    levels_comparable_with = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("levels comparable with"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = FrameworkVersionQuerySet.as_manager()

    class ImmutableError(Exception):
        """A published version was about to change or disappear."""

    class Meta:
        ordering = ["framework__slug", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "version"], name="unique_framework_version"
            ),
        ]
        verbose_name = _("framework version")
        verbose_name_plural = _("framework versions")

    def __str__(self) -> str:
        return f"{self.framework.slug} {self.version}"

    # Defence in depth. The services (assessments/versions.py) and the admin already refuse to
    # change a published version, but assessments were scored against its exact content and
    # reports cite it, so any other code path (a shell, a script, a future view) that would
    # rewrite or delete one must fail loudly here too. Bulk QuerySet.update()/delete() bypass
    # save()/delete(); on_delete=PROTECT on rounds and assessments still guards the rows in use.
    def save(self, *args: object, **kwargs: object) -> None:
        """Save, refusing to change the content or status of a published version."""
        if self.pk is not None:
            stored = (
                type(self)
                .objects.filter(pk=self.pk)
                .values("status", "content_hash", "definition")
                .first()
            )
            if stored is not None and stored["status"] == self.Status.PUBLISHED:
                if self.status != self.Status.PUBLISHED:
                    raise self.ImmutableError(f"{self} is published and cannot return to draft")
                if (
                    stored["content_hash"] != self.content_hash
                    or stored["definition"] != self.definition
                ):
                    raise self.ImmutableError(
                        f"{self} is published and its content cannot change; "
                        "publish a new version instead"
                    )
        if self.is_published and self.content_hash != self.hash_definition(self.definition):
            raise self.ImmutableError(f"{self}: content_hash does not match the definition")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        """Delete a draft; a published version can never be deleted."""
        if self.pk is not None and (
            type(self).objects.filter(pk=self.pk, status=self.Status.PUBLISHED).exists()
            or self.is_published
        ):
            raise self.ImmutableError(f"{self} is published and cannot be deleted")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def comparable_version_ids(self) -> set[int]:
        """Ids of the versions whose levels compare with this one's: itself, and every version
        of the same framework linked to it by a chain of `levels_comparable_with` declarations
        (one query over the framework's few versions)."""
        links = dict(
            FrameworkVersion.objects.filter(framework_id=self.framework_id).values_list(
                "pk", "levels_comparable_with_id"
            )
        )
        neighbours: dict[int, set[int]] = {pk: set() for pk in links}
        for pk, older in links.items():
            if older is not None and older in neighbours:
                neighbours[pk].add(older)
                neighbours[older].add(pk)
        seen = {self.pk}
        todo = [self.pk]
        while todo:
            for other in neighbours.get(todo.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return seen

    @staticmethod
    def hash_definition(definition: object) -> str:
        """SHA-256 of the canonical JSON of a definition (sorted keys, no spaces)."""
        canonical = json.dumps(
            definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RoundQuerySet(models.QuerySet["Round"]):
    """The one home of "latest round of a cluster" and "previous round of a round"."""

    def newest_first(self) -> RoundQuerySet:
        """Newest opening first; of two rounds opening together, the one created last."""
        return self.order_by("-opens_at", "-id")

    def latest_of(self, cluster: Cluster | int) -> Round | None:
        """The cluster's most recent round (by opening), or None when it has none."""
        cluster_id = cluster if isinstance(cluster, int) else cluster.pk
        return self.filter(cluster_id=cluster_id).newest_first().first()

    def reportable(self, now: datetime.datetime | None = None) -> RoundQuerySet:
        """Rounds worth a report: with at least one submission, or closed by `now`."""
        moment = now or timezone.now()
        submitted = Assessment.objects.submitted().filter(round_id=models.OuterRef("pk"))
        return self.filter(Q(closes_at__lte=moment) | Q(models.Exists(submitted)))

    def latest_reportable_of(self, cluster: Cluster | int) -> Round | None:
        """The cluster's most recent round with a submission (or closed); else its latest.

        A round that has just opened has nothing to show yet, so a report defaults past it.
        """
        cluster_id = cluster if isinstance(cluster, int) else cluster.pk
        return self.filter(cluster_id=cluster_id).reportable().newest_first().first() or (
            self.latest_of(cluster_id)
        )

    def previous_of(self, round_: Round) -> Round | None:
        """The round of the same cluster on the same framework (any version of it) that
        opened last before this one, or None. Whether its figures may be set against this
        round's is `comparable_previous_of`."""
        return (
            self.filter(
                cluster_id=round_.cluster_id,
                framework_version__framework_id=round_.framework_version.framework_id,
                opens_at__lt=round_.opens_at,
            )
            .newest_first()
            .first()
        )

    def comparable_previous_of(self, round_: Round) -> Round | None:
        """The latest earlier round of the same cluster whose framework version's levels compare
        with this round's (the same version, or one declared comparable), or None."""
        return (
            self.filter(
                cluster_id=round_.cluster_id,
                framework_version_id__in=round_.framework_version.comparable_version_ids(),
                opens_at__lt=round_.opens_at,
            )
            .newest_first()
            .first()
        )

    def latest_per_cluster(self, clusters: Iterable[Cluster | int]) -> dict[int, Round]:
        """{cluster id: its most recent round} for the clusters that have one."""
        ids = [c if isinstance(c, int) else c.pk for c in clusters]
        latest: dict[int, Round] = {}
        for r in self.filter(cluster_id__in=ids).order_by("cluster_id", "-opens_at", "-id"):
            latest.setdefault(r.cluster_id, r)
        return latest


class Round(models.Model):
    """An assessment round: one cluster, one framework version, an opening and a closing."""

    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="rounds", verbose_name=_("cluster")
    )
    framework_version = models.ForeignKey(
        FrameworkVersion,
        on_delete=models.PROTECT,
        related_name="rounds",
        verbose_name=_("framework version"),
    )
    name = models.CharField(_("name"), max_length=200)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RoundQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="round_closes_after_opens"
            ),
        ]
        verbose_name = _("round")
        verbose_name_plural = _("rounds")

    def __str__(self) -> str:
        return self.name

    def is_open_at(self, moment: datetime.datetime) -> bool:
        """True when answers may be saved and submitted at `moment`."""
        return self.opens_at <= moment < self.closes_at


class Invitation(models.Model):
    """A firm's invitation to a round, opened through an unguessable token."""

    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("round")
    )
    firm = models.ForeignKey(
        Firm, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("firm")
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField(_("e-mail"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "firm"], name="unique_round_invitation"),
        ]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return str(_("%(firm)s invited to %(round)s")) % {
            "firm": self.firm.name,
            "round": self.round.name,
        }


class InvitationOpening(models.Model):
    """When an invitation's link was first visited: the round page's "opened".

    A row of its own, written once: following a link never rewrites the invitation itself.
    """

    invitation = models.OneToOneField(
        Invitation,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="opening",
        verbose_name=_("invitation"),
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)

    class Meta:
        verbose_name = _("invitation opening")
        verbose_name_plural = _("invitation openings")

    def __str__(self) -> str:
        return f"{self.invitation_id} opened {self.opened_at:%Y-%m-%d %H:%M}"


class InvitationMessage(models.Model):
    """One e-mail to an invited firm, the invitation or a reminder: the history of contacts.

    Queued first (the row is the record that the official asked for it, and the claim that
    stops a second click or a duplicate task from mailing twice), then sent or failed.
    """

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        REMINDER = "reminder", _("Reminder")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("invitation")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["invitation", "kind", "created_at"])]
        verbose_name = _("invitation e-mail")
        verbose_name_plural = _("invitation e-mails")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.email} ({self.get_status_display()})"


class AssessmentQuerySet(models.QuerySet["Assessment"]):
    def submitted(self) -> AssessmentQuerySet:
        return self.filter(status=Assessment.Status.SUBMITTED)

    def drafts(self) -> AssessmentQuerySet:
        return self.filter(status=Assessment.Status.DRAFT)


class Assessment(models.Model):
    """A firm's questionnaire in a round: a draft, then a submitted, scored snapshot."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    round = models.ForeignKey(
        Round, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("round")
    )
    firm = models.ForeignKey(
        Firm, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("firm")
    )
    # The exact version scored; equal to round.framework_version, kept for the snapshot.
    framework_version = models.ForeignKey(
        FrameworkVersion,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("framework version"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    # The stored result (FRAMEWORK_FORMAT.md "Result", plus attainment); null on drafts.
    result = models.JSONField(_("result"), null=True, blank=True)
    total = models.DecimalField(
        _("total score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    level = models.CharField(_("maturity level"), max_length=40, blank=True)
    # Position of `level` in the framework's list of levels, -1 below the first: lets the
    # database count "at or above level X" without reading the definition.
    level_rank = models.SmallIntegerField(_("level rank"), null=True, blank=True)
    basic = models.BooleanField(_("basic or above"), null=True, blank=True)
    advanced = models.BooleanField(_("advanced or above"), null=True, blank=True)
    # Set when an assessor completes an on-site verification (programmes): from then on the
    # assessment is locked, and its stored result is never re-scored or replaced.
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["round", "firm"], name="unique_round_firm_assessment"),
        ]
        indexes = [
            models.Index(fields=["round", "status"]),
            # Provincial scale (issue 14): the fingerprints that key the cached overview pages
            # (count, last id, last submission and change of the submitted assessments of a
            # region's rounds, or of a framework version for the benchmark) read these columns
            # only, so they are answered by index-only scans. docs/queries.md has the plans.
            models.Index(
                fields=["round", "status", "id", "submitted_at", "updated_at"],
                name="assessment_round_fingerprint",
            ),
            models.Index(
                fields=["framework_version", "status", "id", "submitted_at", "updated_at"],
                name="assessment_version_fingerprint",
            ),
        ]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")

    def __str__(self) -> str:
        return str(_("%(firm)s in %(round)s (%(status)s)")) % {
            "firm": self.firm.name,
            "round": self.round.name,
            "status": self.get_status_display(),
        }

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def is_verified(self) -> bool:
        """True once an on-site verification has locked the assessment."""
        return self.verified_at is not None


class Answer(models.Model):
    """One saved answer. Saved per question, with a revision that detects conflicting edits."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    question_code = models.CharField(max_length=80)
    value = models.JSONField(null=True)
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question_code"], name="unique_assessment_answer"
            ),
        ]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")

    def __str__(self) -> str:
        return str(_("answer to %(question)s of %(assessment)s")) % {
            "question": self.question_code,
            "assessment": self.assessment,
        }


class DimensionScore(models.Model):
    """A submitted assessment's score on one dimension, stored for aggregation in SQL."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="dimension_scores"
    )
    dimension_code = models.CharField(max_length=80)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "dimension_code"], name="unique_assessment_dimension"
            ),
        ]

    def __str__(self) -> str:
        return str(_("%(dimension)s of %(assessment)s: %(score)s")) % {
            "dimension": self.dimension_code,
            "assessment": self.assessment,
            "score": self.score,
        }


class QuestionAttainment(models.Model):
    """A submitted assessment's attainment on one applicable, answered question."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="attainments")
    question_code = models.CharField(max_length=80)
    dimension_code = models.CharField(max_length=80)
    # e_q / points for scored questions, the chosen value for level questions.
    attainment = models.DecimalField(max_digits=12, decimal_places=6)
    earned = models.DecimalField(max_digits=12, decimal_places=4, null=True)
    points = models.DecimalField(max_digits=12, decimal_places=4, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question_code"], name="unique_assessment_attainment"
            ),
        ]
        indexes = [models.Index(fields=["question_code"])]

    def __str__(self) -> str:
        return str(_("%(question)s of %(assessment)s: %(attainment)s")) % {
            "question": self.question_code,
            "assessment": self.assessment,
            "attainment": self.attainment,
        }
