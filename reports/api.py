"""REST API for report jobs: request one, then poll its status and follow the download links."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import selectors, services
from reports.models import ReportJob


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[ReportJob.Kind.CLUSTER, ReportJob.Kind.REGION])
    cluster = serializers.SlugField(required=False, help_text=_("Cluster slug"))
    round = serializers.IntegerField(required=False, help_text=_("Round id; default latest"))
    region = serializers.IntegerField(required=False, help_text=_("Region id"))
    language = serializers.ChoiceField(choices=sorted(services.LANGUAGES), default="zh-hans")
    shareable = serializers.BooleanField(default=False)


class ReportJobSerializer(serializers.ModelSerializer):
    # What the report covers, named as in the request: cluster slug, round id, region id (null
    # once deleted). `params` repeats them in the form earlier clients read.
    cluster: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    round: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    region: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    params = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportJob
        fields = [
            "id",
            "kind",
            "cluster",
            "round",
            "region",
            "params",
            "language",
            "shareable",
            "status",
            "progress",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "timings",
            "pdf_url",
            "xlsx_url",
        ]

    def _url(self, job: ReportJob, fmt: str) -> str | None:
        if job.status != ReportJob.Status.DONE or not getattr(job, fmt):
            return None
        return self.context["request"].build_absolute_uri(
            reverse("report-download", kwargs={"job_id": job.pk, "fmt": fmt})
        )

    def get_params(self, job: ReportJob) -> dict[str, int | None]:
        if job.kind == ReportJob.Kind.CLUSTER:
            return {"cluster_id": job.cluster_id, "round_id": job.round_id}
        return {"region_id": job.region_id}

    def get_pdf_url(self, job: ReportJob) -> str | None:
        return self._url(job, "pdf")

    def get_xlsx_url(self, job: ReportJob) -> str | None:
        return self._url(job, "xlsx")


class ReportRequestApi(APIView):
    """Request a cluster or regional report; 202 with the job (reused, cached or queued).

    A cluster, round or region outside the caller's scope is answered exactly like one that
    does not exist: 404 with the same message.
    """

    @extend_schema(request=ReportRequestSerializer, responses={202: ReportJobSerializer})
    def post(self, request: Request) -> Response:
        data_in = ReportRequestSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        try:
            cluster, round_, region = selectors.report_targets(
                request.user,
                cluster_slug=data.get("cluster") or None,
                round_id=data.get("round"),
                region_id=data.get("region"),
            )
        except selectors.TargetNotFound as exc:
            return Response({"detail": exc.message}, status=status.HTTP_404_NOT_FOUND)
        try:
            job, how = services.report_request(
                request.user,
                kind=data["kind"],
                language=data["language"],
                shareable=data["shareable"],
                cluster=cluster,
                round_=round_,
                region=region,
            )
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
        except selectors.TargetNotFound as exc:
            return Response({"detail": exc.message}, status=status.HTTP_404_NOT_FOUND)
        body = ReportJobSerializer(job, context={"request": request}).data
        return Response({**body, "served": how}, status=status.HTTP_202_ACCEPTED)


class ReportJobDetailApi(APIView):
    """A job's status, progress, error and download links."""

    @extend_schema(responses={200: ReportJobSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        job = selectors.job_for(request.user, job_id)
        if job is None:
            return Response({"detail": _("No such report.")}, status=status.HTTP_404_NOT_FOUND)
        return Response(ReportJobSerializer(job, context={"request": request}).data)
