"""REST API for report jobs: request one, then poll its status and follow the download links."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import selectors as assessment_selectors
from clusters.selectors import regions_visible_to
from gradient.api import HTTP_422, MAX_ID, error, error_response, validated
from gradient.limits import Pagination
from reports import context, dashboard, regional, selectors, services
from reports.exports import CONTENT_TYPES, FORMATS, results_export
from reports.models import ReportJob
from reports.selectors import NO_SUCH_REGION


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
            "annex_status",
            "annex_error",
            "annex_timings",
            "pdf_url",
            "xlsx_url",
            "api_files",
        ]
        extra_kwargs = {
            "annex_status": {
                "help_text": "The XLSX annex, rendered beside the PDF: pending, running, done "
                "or failed (empty for jobs from before it had its own task). xlsx_url is set "
                "once it is done, even while the PDF is still rendering."
            },
            "annex_error": {"help_text": "Why the annex failed; the PDF is not affected."},
        }

    def _ready(self, job: ReportJob, fmt: str) -> bool:
        if fmt == "xlsx":
            return job.annex_ready
        return job.status == ReportJob.Status.DONE and bool(job.pdf)

    def _url(self, job: ReportJob, fmt: str) -> str | None:
        if not self._ready(job, fmt):
            return None
        return self.context["request"].build_absolute_uri(
            reverse("report-download", kwargs={"job_id": job.pk, "fmt": fmt})
        )

    def get_params(self, job: ReportJob) -> dict[str, int | None]:
        if job.kind == ReportJob.Kind.CLUSTER:
            return {"cluster_id": job.cluster_id, "round_id": job.round_id}
        if job.kind == ReportJob.Kind.PROGRAMME:
            return {"programme_id": job.programme_id}
        return {"region_id": job.region_id}

    def get_pdf_url(self, job: ReportJob) -> str | None:
        return self._url(job, "pdf")

    def get_xlsx_url(self, job: ReportJob) -> str | None:
        return self._url(job, "xlsx")

    def get_api_files(self, job: ReportJob) -> dict[str, str]:
        return {
            fmt: self.context["request"].build_absolute_uri(
                reverse("api-report-file", kwargs={"job_id": job.pk, "fmt": fmt})
            )
            for fmt in ("pdf", "xlsx")
            if self._ready(job, fmt)
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
            409: error(
                "The report is not finished, or its XLSX annex is still being prepared (or "
                "either failed: the detail says why)"
            ),
        },
    )
    def get(self, request: Request, job_id: int, fmt: str) -> HttpResponseBase:
        job = selectors.job_for(request.user, job_id)
        if job is None:
            return error_response(status.HTTP_404_NOT_FOUND, _("No such report."), "not_found")
        unavailable = services.report_file_unavailable(job, fmt)
        if unavailable is not None:
            return error_response(status.HTTP_409_CONFLICT, *unavailable)
        field = job.pdf if fmt == "pdf" else job.xlsx
        try:
            handle = field.open("rb") if field else None
        except FileNotFoundError:
            handle = None
        if handle is None:
            gone = _("The file has expired. Request the report again.")
            return error_response(status.HTTP_404_NOT_FOUND, gone, "expired")
        services.report_download_record(request.user, job, fmt, via="api")
        name = f"{job.kind}-report-{job.pk}-{job.language}.{fmt}"
        return FileResponse(handle, as_attachment=True, filename=name)


# --- Workspace figures (officials): a cluster's dashboard, a region's comparison --------------
# Schema texts are English, as in assessments/api.py; answers and errors follow the language.
# Read-only views of exactly what the pages show: the dashboard's view model
# (reports/dashboard.py) and the regional report (reports/context.py), chosen and scoped as the
# pages choose them. Shares, changes and scores are JSON numbers, as in a result's JSON.


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


class SpreadSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Firms with a score")
    mean = serializers.FloatField(allow_null=True)
    q1 = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    q3 = serializers.FloatField(allow_null=True)


class RoundResponseSerializer(serializers.Serializer):
    round_id = serializers.IntegerField()
    name = serializers.CharField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    framework = serializers.CharField(help_text="Framework and version")
    invited = serializers.IntegerField()
    opened = serializers.IntegerField(help_text="Invitation links visited")
    draft = serializers.IntegerField()
    submitted = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True, help_text="Percent of invited")


class HeadlineSerializer(serializers.Serializer):
    invited = serializers.IntegerField()
    assessed = serializers.IntegerField(help_text="Firms that submitted")
    response_rate = serializers.FloatField(allow_null=True, help_text="Percent")
    basic_count = serializers.IntegerField(allow_null=True)
    advanced_count = serializers.IntegerField(allow_null=True)
    basic_share = serializers.FloatField(allow_null=True, help_text="Percent of assessed")
    advanced_share = serializers.FloatField(allow_null=True, help_text="Percent of assessed")
    previous_round = serializers.CharField(allow_null=True)
    previous_basic_share = serializers.FloatField(allow_null=True)
    previous_advanced_share = serializers.FloatField(allow_null=True)
    basic_change = serializers.FloatField(allow_null=True, help_text="Percentage points")
    advanced_change = serializers.FloatField(allow_null=True, help_text="Percentage points")
    incomparable_round = serializers.CharField(
        allow_null=True,
        help_text="The earlier round whose levels cannot be compared with this one's",
    )
    small_sample = serializers.BooleanField(help_text="Fewer than 5 firms submitted")


class LevelCountSerializer(serializers.Serializer):
    code = serializers.CharField(help_text='Level code; "" is below the first level')
    title = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)
    share = serializers.FloatField(allow_null=True)


class DimensionStatSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    weight = serializers.FloatField()
    cluster = SpreadSerializer()
    benchmark = SpreadSerializer(help_text="Every cluster's firms on the same version")


class QuestionStatSerializer(serializers.Serializer):
    code = serializers.CharField()
    dimension = serializers.CharField()
    dimension_title = serializers.CharField()
    text = serializers.CharField()
    n = serializers.IntegerField()
    met = serializers.IntegerField(allow_null=True)
    share = serializers.FloatField(allow_null=True)
    benchmark_share = serializers.FloatField(allow_null=True)


class HomogeneitySerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="1: identical profiles")
    benchmark_mean = serializers.FloatField(allow_null=True)
    benchmark_min = serializers.FloatField(allow_null=True)
    benchmark_max = serializers.FloatField(allow_null=True)
    benchmark_groups = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True, help_text="1: the most homogeneous")


class TrendRowSerializer(serializers.Serializer):
    round_id = serializers.IntegerField()
    name = serializers.CharField()
    opens_at = serializers.DateTimeField()
    version = serializers.CharField()
    assessed = serializers.IntegerField()
    basic_count = serializers.IntegerField()
    advanced_count = serializers.IntegerField()
    basic_share = serializers.FloatField(allow_null=True)
    advanced_share = serializers.FloatField(allow_null=True)


class TrendPointSerializer(serializers.Serializer):
    round_id = serializers.IntegerField()
    round = serializers.CharField()
    opens_at = serializers.DateTimeField()
    count = serializers.IntegerField()


class NextFirmSerializer(serializers.Serializer):
    name = serializers.CharField()
    uscc = serializers.CharField()
    total = serializers.FloatField(allow_null=True)
    unmet = serializers.IntegerField()
    lacks = serializers.ListField(child=serializers.CharField())


class TargetProgressSerializer(serializers.Serializer):
    target_id = serializers.IntegerField()
    subject = serializers.CharField()
    framework = serializers.CharField()
    version = serializers.CharField(help_text='"" when any version counts')
    level = serializers.CharField()
    level_code = serializers.CharField()
    industry = serializers.CharField()
    goal = serializers.IntegerField()
    deadline = serializers.DateField()
    days_left = serializers.IntegerField()
    round = serializers.CharField(allow_null=True)
    current = serializers.IntegerField(allow_null=True)
    share = serializers.FloatField(allow_null=True, help_text="Percent of the goal, at most 100")
    met = serializers.BooleanField()
    trend = TrendPointSerializer(many=True)
    next_firms = NextFirmSerializer(
        many=True, help_text="The firms that would count next (none once met)"
    )


class SupportRowSerializer(serializers.Serializer):
    firm = serializers.CharField(source="entry.firm")
    uscc = serializers.CharField(source="entry.uscc")
    firm_id = serializers.IntegerField(allow_null=True)
    total = serializers.FloatField(source="entry.total", allow_null=True)
    level = serializers.CharField(source="entry.level")
    band = serializers.ChoiceField(source="entry.band", choices=["basic", "advanced"])
    band_title = serializers.CharField(source="entry.band_title")
    target_level = serializers.CharField(source="entry.target_level")
    unmet_count = serializers.IntegerField(source="entry.unmet_count")
    lacks = serializers.ListField(source="entry.lacks", child=serializers.CharField())
    counts_next = serializers.BooleanField(help_text="Would count next towards a target")


class SupportPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SupportRowSerializer(many=True)


class RoundNameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DashboardSerializer(serializers.Serializer):
    cluster = serializers.SlugField()
    cluster_name = serializers.CharField()
    round = RoundNameSerializer(allow_null=True, help_text="The round shown; null: none yet")
    rounds = RoundNameSerializer(many=True, help_text="Every round of the cluster, newest first")
    response = RoundResponseSerializer(many=True, help_text="Every round, newest first")
    headline = HeadlineSerializer(allow_null=True)
    levels = LevelCountSerializer(many=True)
    dimensions = DimensionStatSerializer(many=True)
    weakest = QuestionStatSerializer(many=True)
    homogeneity = HomogeneitySerializer(allow_null=True)
    trend = TrendRowSerializer(many=True, help_text="Rounds on the same framework, oldest first")
    targets = TargetProgressSerializer(many=True)
    support_basic = serializers.IntegerField(allow_null=True)
    support_advanced = serializers.IntegerField(allow_null=True)
    support = SupportPageSerializer(help_text="Firms within reach of the next band, paged")


class SupportPagination(Pagination):
    """The support list in the dashboard's pages of 25 (?page=; no page_size)."""

    page_size = dashboard.SUPPORT_PAGE_SIZE
    page_size_query_param = ""  # falsy: DRF and Pagination then keep page_size


class DashboardQuerySerializer(serializers.Serializer):
    round = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Round id; default latest"
    )


def _query(serializer_class: type[serializers.Serializer], request: Request) -> Any:
    """The query string checked by the serializer (400 naming each parameter)."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _board_data(board: dashboard.Dashboard, support: dict[str, Any]) -> dict[str, Any]:
    """The dashboard view model as the API's plain data (DashboardSerializer's input)."""
    report = board.report
    next_firms = {progress.target_id: firms for progress, firms in board.next_firms}
    round_ = board.round
    return {
        "cluster": board.cluster.slug,
        "cluster_name": board.cluster.name,
        "round": {"id": round_.pk, "name": round_.name} if round_ is not None else None,
        "rounds": [{"id": r.pk, "name": r.name} for r in board.rounds],
        "response": board.response,
        "headline": report.headline if report else None,
        "levels": report.levels if report else (),
        "dimensions": report.dimensions if report else (),
        "weakest": report.weakest if report else (),
        "homogeneity": report.homogeneity if report else None,
        "trend": board.trend,
        "targets": [
            {**asdict(t), "next_firms": next_firms.get(t.target_id, ())} for t in board.targets
        ],
        "support_basic": report.support_basic if report else None,
        "support_advanced": report.support_advanced if report else None,
        "support": support,
    }


class ClusterDashboardApi(APIView):
    """A cluster's dashboard figures for one round, as the dashboard page shows them."""

    @extend_schema(
        parameters=[
            DashboardQuerySerializer,
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1, "maximum": 999_999_999},
                description="Page of the support list (25 a page)",
            ),
        ],
        responses={
            200: DashboardSerializer,
            400: error("A round or page that is not a whole number from 1"),
            404: error("No such cluster or round, one outside your scope, or no such page"),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        query = _query(DashboardQuerySerializer, request)
        raw_round = str(query["round"]) if "round" in query else None
        # The page's own choice of cluster (in scope) and round (default: newest with results).
        cluster, rounds, counts, round_ = dashboard.dashboard_subject(request.user, slug, raw_round)
        board = dashboard.dashboard(cluster, round_, rounds, counts, language=_language())
        paginator = SupportPagination()
        entries = board.report.support if board.report else ()
        paginator.paginate_queryset(list(entries), request, view=self)
        page = paginator.page
        assert page is not None  # paginate_queryset has set it (or raised 400 or 404)
        rows = dashboard.support_page(board, page.number) if entries else None
        support = {
            "count": page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": list(rows.object_list) if rows is not None else [],
        }
        return Response(DashboardSerializer(_board_data(board, support)).data)


class RegionRowSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    cluster_slug = serializers.CharField()
    region = serializers.CharField()
    round = serializers.CharField()
    round_id = serializers.IntegerField()
    invited = serializers.IntegerField()
    assessed = serializers.IntegerField(help_text="Firms that submitted")
    response_rate = serializers.FloatField(allow_null=True)
    basic_share = serializers.FloatField(allow_null=True)
    advanced_share = serializers.FloatField(allow_null=True)
    previous_round = serializers.CharField(allow_null=True)
    basic_change = serializers.FloatField(allow_null=True, help_text="Percentage points")
    advanced_change = serializers.FloatField(allow_null=True, help_text="Percentage points")
    homogeneity = serializers.FloatField(allow_null=True)
    small_sample = serializers.BooleanField()
    dimension_means = serializers.ListField(
        child=serializers.FloatField(allow_null=True), help_text="In the group's order"
    )
    level_counts = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), help_text="In the group's order"
    )


class CodeTitleSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


class RegionGroupSerializer(serializers.Serializer):
    framework = serializers.CharField()
    framework_version = serializers.CharField()
    dimensions = CodeTitleSerializer(many=True)
    levels = CodeTitleSerializer(many=True)
    rows = RegionRowSerializer(many=True)


class RegionFrameworkSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    submitted = serializers.IntegerField(help_text="Submitted assessments in the region")


class ComparisonSerializer(serializers.Serializer):
    region = serializers.CharField()
    region_id = serializers.IntegerField()
    framework = serializers.SlugField(allow_null=True, help_text="null: no round in the region")
    framework_title = serializers.CharField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    sort = serializers.CharField()
    frameworks = RegionFrameworkSerializer(many=True)
    groups = RegionGroupSerializer(many=True, help_text="One per framework version")
    clusters_without_round = serializers.ListField(child=serializers.CharField())
    min_cell = serializers.IntegerField()


SORTS = sorted(f"{d}{key}" for key in regional._VALUES for d in ("", "-"))


class ComparisonQuerySerializer(serializers.Serializer):
    framework = serializers.SlugField(
        required=False, max_length=80, help_text="Framework slug; default the most answered"
    )
    year = serializers.IntegerField(
        required=False,
        min_value=services.YEAR_MIN,
        max_value=services.YEAR_MAX,
        help_text="Compare rounds opened in this year; default any year",
    )
    sort = serializers.ChoiceField(
        choices=SORTS, default=regional.DEFAULT_SORT, help_text="A column; - for descending"
    )


def _pairs(items: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"code": code, "title": title} for code, title in items]


class RegionComparisonApi(APIView):
    """The clusters of a region side by side on one framework, as the regional page shows."""

    @extend_schema(
        parameters=[ComparisonQuerySerializer],
        responses={
            200: ComparisonSerializer,
            400: error("A year out of range, or an unknown sort"),
            404: error("No such region, one outside your scope, or no such framework in it"),
        },
    )
    def get(self, request: Request, region_id: int) -> Response:
        query = _query(ComparisonQuerySerializer, request)
        region = regions_visible_to(request.user).filter(pk=region_id).first()
        if region is None:
            return error_response(status.HTTP_404_NOT_FOUND, NO_SUCH_REGION, "not_found")
        language = _language()
        frameworks = context.region_frameworks(region)
        wanted = query.get("framework")
        framework = next((f for f, _n in frameworks if f.slug == wanted), None)
        if wanted and framework is None:
            detail = _("No framework “%(slug)s” in this region.") % {"slug": wanted}
            return error_response(
                status.HTTP_404_NOT_FOUND, detail, "not_found", [f"framework: {detail}"]
            )
        framework = framework or (frameworks[0][0] if frameworks else None)
        sort = regional.parse_sort(query["sort"])
        groups: list[dict[str, Any]] = []
        without: tuple[str, ...] = ()
        if framework is not None:
            report = context.region_report(
                region, language=language, framework=framework, year=query.get("year")
            )
            report = regional.sorted_report(report, *sort)
            without = report.clusters_without_round
            groups = [
                {
                    **asdict(g),
                    "dimensions": _pairs(g.dimensions),
                    "levels": _pairs(g.levels),
                }
                for g in report.groups
            ]
        body = {
            "region": region.name_for(language),
            "region_id": region.pk,
            "framework": framework.slug if framework else None,
            "framework_title": context.framework_title(framework, language) if framework else None,
            "year": query.get("year"),
            "sort": ("-" if sort[1] else "") + sort[0],
            "frameworks": [
                {"slug": f.slug, "title": context.framework_title(f, language), "submitted": n}
                for f, n in frameworks
            ],
            "groups": groups,
            "clusters_without_round": list(without),
            "min_cell": context.MIN_CELL,
        }
        return Response(ComparisonSerializer(body).data)
