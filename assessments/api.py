"""REST API (DRF): framework versions, and scoring answers against one without storing them."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.models import FrameworkVersion
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


def _visible_versions(request: Request) -> object:
    """Published versions; staff also see drafts."""
    versions = FrameworkVersion.objects.select_related("framework")
    if request.user.is_staff:
        return versions
    return versions.published()


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
        return get_object_or_404(
            _visible_versions(self.request),  # type: ignore[arg-type]
            framework__slug=self.kwargs["slug"],
            version=self.kwargs["version"],
        )


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
        stored = get_object_or_404(
            _visible_versions(request),  # type: ignore[arg-type]
            framework__slug=slug,
            version=version,
        )
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
