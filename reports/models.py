"""Report jobs: what was asked for, how far it got, and the files it produced."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from assessments.signals import assessment_submitted


class ReportJobQuerySet(models.QuerySet["ReportJob"]):
    def active(self) -> ReportJobQuerySet:
        return self.filter(status__in=[ReportJob.Status.PENDING, ReportJob.Status.RUNNING])


class ReportJob(models.Model):
    """One request for a rendered report; the row is the single source of its status.

    A cluster report points at its round (the subject) and the round's cluster (the scope that
    decides who may see the job); a regional report points at its region. When the subject is
    deleted the link is set to null and the job is failed and expired (see `subject_deleted`),
    so that the person who asked for it sees why, and its files stop being served. A programme
    report (issue 13) points at its programme, whose region decides who may see it.
    """

    class Kind(models.TextChoices):
        CLUSTER = "cluster", _("Cluster report")
        REGION = "region", _("Regional report")
        PROGRAMME = "programme", _("Programme report")

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RUNNING = "running", _("Rendering")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class AnnexStatus(models.TextChoices):
        # Jobs from before the annex had a task of its own: the XLSX file says it all.
        NONE = "", _("No separate annex")
        PENDING = "pending", _("Queued")
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    round = models.ForeignKey(
        "assessments.Round",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_jobs",
        verbose_name=_("round"),
    )
    cluster = models.ForeignKey(
        "clusters.Cluster",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_jobs",
        verbose_name=_("cluster"),
    )
    region = models.ForeignKey(
        "clusters.Region",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_jobs",
        verbose_name=_("region"),
    )
    # A regional report compares the clusters' rounds on one framework, opened in one year
    # (null: any year); both are part of its fingerprint.
    framework = models.ForeignKey(
        "assessments.Framework",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("framework"),
    )
    year = models.PositiveSmallIntegerField(_("round year"), null=True, blank=True)
    programme = models.ForeignKey(
        "programmes.Programme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_jobs",
        verbose_name=_("programme"),
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    shareable = models.BooleanField(_("shareable variant"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(_("error"), blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, db_index=True)
    pdf = models.FileField(_("PDF file"), upload_to="reports/%Y/%m/", blank=True)
    xlsx = models.FileField(_("XLSX file"), upload_to="reports/%Y/%m/", blank=True)
    timings = models.JSONField(_("timings"), default=dict, blank=True)
    # Delivery bookkeeping (reports.services.report_job_claim): when the task was handed to
    # the broker (null: sending failed, requeue_reports sends it again), which task delivery
    # holds the running job, and how many times a worker claimed it.
    queued_at = models.DateTimeField(_("sent to the queue at"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by task"), max_length=155, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # The XLSX annex is rendered by a task of its own beside the PDF (issue 14), so the PDF
    # is ready without waiting for it: its state, claim and errors are its own, and the two
    # tasks only ever update their own columns of the row (`status`, `error`, `progress`,
    # `claimed_by`, `attempts`, `timings`, `pdf` are the PDF's).
    annex_status = models.CharField(
        _("annex status"),
        max_length=10,
        choices=AnnexStatus.choices,
        default=AnnexStatus.NONE,
        blank=True,
    )
    annex_error = models.TextField(_("annex error"), blank=True)
    annex_queued_at = models.DateTimeField(_("annex sent to the queue at"), null=True, blank=True)
    annex_claimed_by = models.CharField(_("annex claimed by task"), max_length=155, blank=True)
    annex_attempts = models.PositiveSmallIntegerField(_("annex attempts"), default=0)
    annex_started_at = models.DateTimeField(_("annex started at"), null=True, blank=True)
    annex_finished_at = models.DateTimeField(_("annex finished at"), null=True, blank=True)
    annex_timings = models.JSONField(_("annex timings"), default=dict, blank=True)

    objects = ReportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A cluster report has no region; a regional report has no round and no cluster;
            # a programme report has none of them; only a programme report has a programme.
            models.CheckConstraint(
                condition=Q(kind="cluster", region__isnull=True, programme__isnull=True)
                | Q(
                    kind="region",
                    round__isnull=True,
                    cluster__isnull=True,
                    programme__isnull=True,
                )
                | Q(
                    kind="programme",
                    round__isnull=True,
                    cluster__isnull=True,
                    region__isnull=True,
                ),
                name="report_job_subject_matches_kind",
            ),
        ]
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")

    def __str__(self) -> str:
        return str(_("%(kind)s report no. %(pk)s (%(status)s)")) % {
            "kind": self.get_kind_display(),
            "pk": self.pk,
            "status": self.get_status_display(),
        }

    @property
    def annex_ready(self) -> bool:
        """Whether the XLSX annex can be downloaded (its file is there, the job not failed)."""
        return bool(self.xlsx) and self.status != self.Status.FAILED

    @property
    def annex_preparing(self) -> bool:
        """Whether the annex is queued or being rendered (for a job that has not failed)."""
        return self.status != self.Status.FAILED and self.annex_status in (
            self.AnnexStatus.PENDING,
            self.AnnexStatus.RUNNING,
        )

    @property
    def annex_failed(self) -> bool:
        """Whether the annex failed while the job itself did not."""
        return self.status != self.Status.FAILED and self.annex_status == self.AnnexStatus.FAILED


@receiver(pre_delete, sender="assessments.Round", dispatch_uid="report_jobs_round_deleted")
def _round_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A round is being deleted: its report jobs fail and expire (the link is then nulled)."""
    from reports.services import report_jobs_subject_deleted

    report_jobs_subject_deleted(round_id=instance.pk)


@receiver(pre_delete, sender="clusters.Region", dispatch_uid="report_jobs_region_deleted")
def _region_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A region is being deleted: its report jobs fail and expire (the link is then nulled)."""
    from reports.services import report_jobs_subject_deleted

    report_jobs_subject_deleted(region_id=instance.pk)


@receiver(pre_delete, sender="programmes.Programme", dispatch_uid="report_jobs_programme_deleted")
def _programme_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A programme is being deleted: its report jobs fail and expire (the link is then nulled)."""
    from reports.services import report_jobs_subject_deleted

    report_jobs_subject_deleted(programme_id=instance.pk)


@receiver(assessment_submitted, dispatch_uid="report_dashboard_warm")
def _assessment_submitted(sender: Any, round_id: int, **kwargs: Any) -> None:
    """A submission has committed: warm the round's dashboard report (debounced per round)."""
    from reports.tasks import dashboard_warm_soon

    dashboard_warm_soon(round_id)


class BenchmarkSnapshot(models.Model):
    """Aggregates over every submitted assessment of a framework version, kept between reports.

    The benchmark is the same for every cluster on a version and is the costliest part of a
    report (it reads every cluster's rows). It is recomputed whenever its key changes: the
    number, newest id, newest submission and newest update of the version's assessments.
    """

    framework_version = models.ForeignKey(
        "assessments.FrameworkVersion", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["framework_version"], name="unique_benchmark_version"),
        ]
        verbose_name = _("benchmark snapshot")
        verbose_name_plural = _("benchmark snapshots")

    def __str__(self) -> str:
        return str(_("benchmark of %(version)s")) % {"version": self.framework_version}


class Target(models.Model):
    """A goal an official sets for a cluster or a region: "by `deadline`, `firms` firms at
    `level` or above on `framework`" (optionally one framework version, one industry).

    Progress is counted on the latest round of the framework that has submissions
    (reports/targets.py); the row only says what was promised, by whom.
    """

    cluster = models.ForeignKey(
        "clusters.Cluster",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("cluster"),
    )
    region = models.ForeignKey(
        "clusters.Region",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("region"),
    )
    framework = models.ForeignKey(
        "assessments.Framework",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("framework"),
    )
    # Empty: any version of the framework counts (the latest round's, whatever it is).
    framework_version = models.ForeignKey(
        "assessments.FrameworkVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("framework version"),
    )
    level = models.CharField(_("level or above"), max_length=40)
    firms = models.PositiveIntegerField(_("number of firms"))
    deadline = models.DateField(_("deadline"))
    # A GB/T 4754 code such as "C34": only firms of that division count; empty for all.
    industry = models.CharField(_("industry"), max_length=4, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["deadline", "id"]
        constraints = [
            # Exactly one subject: a cluster or a region.
            models.CheckConstraint(
                condition=Q(cluster__isnull=False, region__isnull=True)
                | Q(cluster__isnull=True, region__isnull=False),
                name="target_cluster_or_region",
            ),
            models.CheckConstraint(condition=Q(firms__gt=0), name="target_firms_positive"),
        ]
        verbose_name = _("target")
        verbose_name_plural = _("targets")

    def __str__(self) -> str:
        subject = self.cluster if self.cluster_id else self.region
        return str(_("%(subject)s: %(firms)s firms at %(level)s or above by %(deadline)s")) % {
            "subject": subject,
            "firms": self.firms,
            "level": self.level,
            "deadline": self.deadline,
        }


class RoundFigures(models.Model):
    """A round's figures for the regional comparison, and the state of the round they were
    computed from (reports/round_figures.py): reused while the state holds, recomputed after."""

    round = models.OneToOneField(
        "assessments.Round",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("round"),
    )
    state = models.CharField(_("state"), max_length=64)
    data = models.JSONField(_("figures"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("round figures")
        verbose_name_plural = _("round figures")

    def __str__(self) -> str:
        return f"{self.round_id}: {self.computed_at:%Y-%m-%d %H:%M}"


class ReportBatch(models.Model):
    """Every cluster report of a region's round, rendered in one action and zipped (issue 14).

    "A round" across clusters is what the regional report compares (reports.context.
    region_rounds): per cluster under the region, its latest round on `framework` that has a
    submission or is closed, opened in `year` when one is given. The batch links one cluster
    report job per such round (a job is shared with the single requests and other batches
    that have the same fingerprint), and its own status says whether the zip is written.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RUNNING = "running", _("Rendering")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    region = models.ForeignKey(
        "clusters.Region",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_batches",
        verbose_name=_("region"),
    )
    framework = models.ForeignKey(
        "assessments.Framework",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("framework"),
    )
    year = models.PositiveSmallIntegerField(_("round year"), null=True, blank=True)
    jobs = models.ManyToManyField(
        ReportJob, related_name="batches", blank=True, verbose_name=_("report jobs")
    )
    total = models.PositiveIntegerField(_("cluster reports"), default=0)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    shareable = models.BooleanField(_("shareable variant"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    error = models.TextField(_("error"), blank=True)
    zip = models.FileField(_("zip file"), upload_to="reports/batches/%Y/%m/", blank=True)
    # The clusters whose report failed, as listed in the zip's text file: [[name, error], …].
    failures = models.JSONField(_("failed reports"), default=list, blank=True)
    # When the fan-out was handed to the broker (null: sending failed, sent again later), and
    # which delivery of the zip task writes the zip (reports.batch.batch_zip_claim).
    queued_at = models.DateTimeField(_("sent to the queue at"), null=True, blank=True)
    zip_claimed_by = models.CharField(_("zip claimed by task"), max_length=155, blank=True)
    zip_started_at = models.DateTimeField(_("zip started at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report batch")
        verbose_name_plural = _("report batches")

    def __str__(self) -> str:
        return str(_("Report batch no. %(pk)s (%(status)s)")) % {
            "pk": self.pk,
            "status": self.get_status_display(),
        }
