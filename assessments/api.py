"""REST API (DRF): framework versions, and scoring answers against one without storing them."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Assessment, FrameworkVersion
from assessments.scoring import AnswerError, score
from assessments.versions import framework_for

# --- Serializers (also the OpenAPI schema) ---------------------------------------------------


class FrameworkVersionSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="framework.slug", read_only=True)
    title = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = FrameworkVersion
        fields = ["framework", "version", "title", "source", "status", "published_at"]
        read_only_fields = fields


class FrameworkVersionDetailSerializer(FrameworkVersionSerializer):
    definition = serializers.JSONField(read_only=True)

    class Meta(FrameworkVersionSerializer.Meta):
        fields = [*FrameworkVersionSerializer.Meta.fields, "content_hash", "definition"]
        read_only_fields = fields


class ScoreRequestSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="Question code to answer, as in FRAMEWORK_FORMAT.md.",
    )


class UnmetSerializer(serializers.Serializer):
    condition = serializers.JSONField()
    actual = serializers.JSONField(allow_null=True)


class NextLevelSerializer(serializers.Serializer):
    code = serializers.CharField()
    unmet = UnmetSerializer(many=True)


class ResultSerializer(serializers.Serializer):
    framework = serializers.CharField()
    version = serializers.CharField()
    total = serializers.FloatField()
    dimensions = serializers.DictField(child=serializers.FloatField(allow_null=True))
    level = serializers.CharField(allow_null=True)
    basic = serializers.BooleanField()
    advanced = serializers.BooleanField()
    next_level = NextLevelSerializer(allow_null=True)


class ProblemsSerializer(serializers.Serializer):
    problems = serializers.ListField(child=serializers.CharField())


# --- Views -----------------------------------------------------------------------------------


def _visible_version(request: Request, slug: str, version: str) -> FrameworkVersion:
    """The version named by slug and version: published ones, and drafts for staff; else 404."""
    versions = FrameworkVersion.objects.select_related("framework")
    if not request.user.is_staff:
        versions = versions.published()
    return get_object_or_404(versions, framework__slug=slug, version=version)


class FrameworkListApi(generics.ListAPIView):
    """Published framework versions."""

    permission_classes = [IsAuthenticated]
    serializer_class = FrameworkVersionSerializer
    queryset = FrameworkVersion.objects.published().select_related("framework")


class FrameworkDetailApi(generics.RetrieveAPIView):
    """One framework version with its full definition."""

    permission_classes = [IsAuthenticated]
    serializer_class = FrameworkVersionDetailSerializer

    def get_object(self) -> FrameworkVersion:
        """The version named by slug and version (404 when absent or not visible)."""
        return _visible_version(self.request, self.kwargs["slug"], self.kwargs["version"])


class FrameworkScoreApi(APIView):
    """Score answers against a framework version; nothing is stored."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ScoreRequestSerializer,
        responses={
            200: ResultSerializer,
            400: OpenApiResponse(ProblemsSerializer, description="Invalid answers"),
            404: OpenApiResponse(description="No such framework version"),
        },
    )
    def post(self, request: Request, slug: str, version: str) -> Response:
        """The contract's result JSON, or 400 with one problem per invalid answer."""
        stored = _visible_version(request, slug, version)
        try:
            data = request.data
        except (ParseError, UnsupportedMediaType) as exc:
            return _problems([f"body: {exc.detail}"])
        if not isinstance(data, dict) or "answers" not in data:
            return _problems(['body: must be a JSON object such as {"answers": {...}}'])
        answers = data["answers"]
        if not isinstance(answers, dict):
            return _problems(["answers: must be an object mapping question codes to answers"])
        try:
            result = score(framework_for(stored), answers)
        except AnswerError as exc:
            return _problems(exc.problems)
        return Response(result.as_dict())


def _problems(problems: list[str]) -> Response:
    return Response({"problems": problems}, status=status.HTTP_400_BAD_REQUEST)


# --- Assessments: own assessments and results, and saving one answer --------------------------


class AssessmentSerializer(serializers.ModelSerializer):
    firm = serializers.CharField(source="firm.name")
    round = serializers.CharField(source="round.name")
    framework = serializers.CharField(source="framework_version.framework.slug")
    version = serializers.CharField(source="framework_version.version")

    class Meta:
        model = Assessment
        fields = [
            "id",
            "firm",
            "round",
            "framework",
            "version",
            "status",
            "submitted_at",
            "total",
            "level",
            "basic",
            "advanced",
        ]


class AssessmentDetailSerializer(AssessmentSerializer):
    result = serializers.JSONField()
    answers = serializers.SerializerMethodField()

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "result", "answers"]

    def get_answers(self, obj: Assessment) -> dict:
        """{code: {"value": ..., "revision": n}} for the firm's own users; {} for officials."""
        if not self.context.get("can_answer"):
            return {}
        return {
            code: {"value": value, "revision": revision}
            for code, value, revision in obj.answers.values_list(
                "question_code", "value", "revision"
            )
        }


class AnswerPutSerializer(serializers.Serializer):
    value = serializers.JSONField(allow_null=True)
    base_revision = serializers.IntegerField(min_value=0)


class AnswerSavedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["saved", "unchanged", "conflict"])
    code = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    revision = serializers.IntegerField()
    other_value = serializers.JSONField(allow_null=True, required=False)


def _assessments_for(request: Request) -> QuerySet[Assessment]:
    return (
        assessment_selectors.assessments_visible_to(request.user)
        .select_related("firm", "round", "framework_version__framework")
        .order_by("-created_at", "-pk")
    )


class AssessmentListApi(generics.ListAPIView):
    """The assessments the user may see: their firms' drafts and results, and (officials)
    the submitted results of firms in their scope."""

    permission_classes = [IsAuthenticated]
    serializer_class = AssessmentSerializer

    def get_queryset(self) -> QuerySet[Assessment]:
        return _assessments_for(self.request)


class AssessmentDetailApi(generics.RetrieveAPIView):
    """One assessment with its stored result and (for the firm's own users) its answers."""

    permission_classes = [IsAuthenticated]
    serializer_class = AssessmentDetailSerializer

    def get_queryset(self) -> QuerySet[Assessment]:
        return _assessments_for(self.request)

    def get_serializer_context(self) -> dict:
        context = dict(super().get_serializer_context())
        if "pk" in self.kwargs:
            assessment = assessment_selectors.assessment_for_user(
                self.request.user, self.kwargs["pk"]
            )
            context["can_answer"] = assessment_selectors.can_answer(self.request.user, assessment)
        return context


class AssessmentAnswerApi(APIView):
    """Save one answer of a draft, guarded by the revision the client last saw."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AnswerPutSerializer,
        responses={
            200: AnswerSavedSerializer,
            400: OpenApiResponse(ProblemsSerializer, description="Invalid answer"),
            404: OpenApiResponse(description="No such assessment or question"),
            409: OpenApiResponse(
                AnswerSavedSerializer,
                description="Changed elsewhere since base_revision, or no longer open",
            ),
        },
    )
    def put(self, request: Request, pk: int, code: str) -> Response:
        """200 saved/unchanged; 409 with the other value on a conflict; 400 with problems."""
        assessment = assessment_selectors.assessment_for_user(request.user, pk)
        if not assessment_selectors.can_answer(request.user, assessment):
            from django.http import Http404

            raise Http404
        body = AnswerPutSerializer(data=request.data)
        if not body.is_valid():
            return _problems(
                [f"{field}: {' '.join(map(str, errors))}" for field, errors in body.errors.items()]
            )
        try:
            outcome = assessment_services.answer_save(
                assessment,
                code,
                body.validated_data["value"],
                base_revision=body.validated_data["base_revision"],
                user=cast(User, request.user),  # IsAuthenticated has run
            )
        except assessment_services.AnswerInvalid as exc:
            return _problems([f"answers.{code}: {exc.message}"])
        except assessment_services.AssessmentLocked as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        data = {
            "status": outcome.status,
            "code": code,
            "value": outcome.value,
            "revision": outcome.revision,
        }
        if outcome.conflict:
            data["other_value"] = outcome.other_value
            return Response(data, status=status.HTTP_409_CONFLICT)
        return Response(data)
