"""REST API for report jobs: request one, then poll its status and follow the download links."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import selectors as assessment_selectors
from gradient.api import HTTP_422, MAX_ID, error, error_response, validated
from reports import selectors, services
from reports.exports import CONTENT_TYPES, FORMATS, results_export
from reports.models import ReportJob


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[ReportJob.Kind.CLUSTER, ReportJob.Kind.REGION])
    cluster = serializers.SlugField(required=False, max_length=100, help_text=_("Cluster slug"))
    round = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text=_("Round id; default latest")
    )
    region = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text=_("Region id")
    )
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
    api_files = serializers.SerializerMethodField(
        help_text="The same files through the API (a token works there): format to URL"
    )

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
            "api_files",
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

    def get_api_files(self, job: ReportJob) -> dict[str, str]:
        if job.status != ReportJob.Status.DONE:
            return {}
        return {
            fmt: self.context["request"].build_absolute_uri(
                reverse("api-report-file", kwargs={"job_id": job.pk, "fmt": fmt})
            )
            for fmt in ("pdf", "xlsx")
            if getattr(job, fmt)
        }


class ReportRequestApi(APIView):
    """Request a cluster or regional report; 202 with the job (reused, cached or queued).

    A cluster, round or region outside the caller's scope is answered exactly like one that
    does not exist: 404 with the same message.
    """

    @extend_schema(
        request=ReportRequestSerializer,
        responses={
            202: ReportJobSerializer,
            404: error("No such cluster, round or region, or one outside your scope"),
            422: error("The request names no target, or a round of another cluster"),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(ReportRequestSerializer, request)
        try:
            cluster, round_, region = selectors.report_targets(
                request.user,
                cluster_slug=data.get("cluster") or None,
                round_id=data.get("round"),
                region_id=data.get("region"),
            )
        except selectors.TargetNotFound as exc:
            return error_response(status.HTTP_404_NOT_FOUND, exc.message, "not_found")
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
            problems = [f"body: {message}" for message in exc.messages]
            return error_response(HTTP_422, " ".join(exc.messages), "invalid", problems)
        except selectors.TargetNotFound as exc:
            return error_response(status.HTTP_404_NOT_FOUND, exc.message, "not_found")
        body = ReportJobSerializer(job, context={"request": request}).data
        return Response({**body, "served": how}, status=status.HTTP_202_ACCEPTED)


class ReportJobDetailApi(APIView):
    """A job's status, progress, error and download links."""

    @extend_schema(responses={200: ReportJobSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        job = selectors.job_for(request.user, job_id)
        if job is None:
            return error_response(status.HTTP_404_NOT_FOUND, _("No such report."), "not_found")
        return Response(ReportJobSerializer(job, context={"request": request}).data)


class RoundResultsExportApi(APIView):
    """A round's results, one row per submitted assessment, as CSV or XLSX (officials).

    Columns: uscc, firm, total, level, basic, advanced, one per dimension code, submitted_at;
    text that a spreadsheet would run as a formula is kept as text.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(FORMATS))
        ],
        responses={
            (200, CONTENT_TYPES["csv"]): OpenApiTypes.BINARY,
            (200, CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request, pk: int, fmt: str) -> HttpResponse:
        round_ = assessment_selectors.round_for_official(request.user, pk)
        response = HttpResponse(results_export(round_, fmt), content_type=CONTENT_TYPES[fmt])
        name = f"round-{round_.pk}-results.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ReportFileApi(APIView):
    """A finished job's PDF or XLSX, for clients that sign in with a token."""

    @extend_schema(
        parameters=[
            OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["pdf", "xlsx"])
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            409: error("The report is not finished (or failed: the detail says why)"),
        },
    )
    def get(self, request: Request, job_id: int, fmt: str) -> HttpResponseBase:
        job = selectors.job_for(request.user, job_id)
        if job is None:
            return error_response(status.HTTP_404_NOT_FOUND, _("No such report."), "not_found")
        if job.status != ReportJob.Status.DONE:
            failed = job.status == ReportJob.Status.FAILED
            detail = job.error if failed else str(_("The report is not ready yet."))
            return error_response(status.HTTP_409_CONFLICT, detail, job.status)
        field = job.pdf if fmt == "pdf" else job.xlsx
        try:
            handle = field.open("rb") if field else None
        except FileNotFoundError:
            handle = None
        if handle is None:
            gone = _("The file has expired. Request the report again.")
            return error_response(status.HTTP_404_NOT_FOUND, gone, "expired")
        name = f"{job.kind}-report-{job.pk}-{job.language}.{fmt}"
        return FileResponse(handle, as_attachment=True, filename=name)
