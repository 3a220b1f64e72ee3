"""REST API (DRF): framework versions, and scoring answers against one without storing them."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    Count,
    Q,
    QuerySet,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import (
    Assessment,
    FrameworkVersion,
    Invitation,
    InvitationMessage,
    Round,
)
from assessments.scoring import AnswerError, score
from assessments.versions import framework_for
from clusters import selectors as cluster_selectors
from clusters.models import Firm
from gradient.api import (
    HTTP_422,
    MAX_ID,
    ErrorSerializer,
    IdFilter,
    error,
    error_response,
    json_body,
    text_filter,
    validated,
)
from gradient.limits import SignedIn

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
        help_text=(
            "Question code to answer. The codes, the answer each question type takes and the "
            "scoring are defined by the framework file format: docs/FRAMEWORK_FORMAT.md in "
            "the repository (sections Questions, Scoring and Result)."
        ),
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


# --- Views -----------------------------------------------------------------------------------


def _visible_version(request: Request, slug: str, version: str) -> FrameworkVersion:
    """The version named by slug and version: published ones, and drafts for staff; else 404."""
    versions = FrameworkVersion.objects.select_related("framework")
    if not request.user.is_staff:
        versions = versions.published()
    return get_object_or_404(versions, framework__slug=slug, version=version)


class FrameworkListApi(generics.ListAPIView):
    """Published framework versions."""

    permission_classes = [SignedIn]
    serializer_class = FrameworkVersionSerializer
    queryset = FrameworkVersion.objects.published().select_related("framework")


class FrameworkDetailApi(generics.RetrieveAPIView):
    """One framework version with its full definition."""

    permission_classes = [SignedIn]
    serializer_class = FrameworkVersionDetailSerializer

    def get_object(self) -> FrameworkVersion:
        """The version named by slug and version (404 when absent or not visible)."""
        return _visible_version(self.request, self.kwargs["slug"], self.kwargs["version"])


class FrameworkScoreApi(APIView):
    """Score answers against a framework version; nothing is stored."""

    permission_classes = [SignedIn]

    @extend_schema(
        request=ScoreRequestSerializer,
        responses={
            200: ResultSerializer,
            400: error("Invalid answers: one problem per answer, or a malformed body"),
            404: error("No such framework version"),
        },
    )
    def post(self, request: Request, slug: str, version: str) -> Response:
        """The contract's result JSON, or 400 with one problem per invalid answer."""
        stored = _visible_version(request, slug, version)
        try:
            data = request.data
        except ParseError as exc:
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


def _problems(problems: list[str], code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    """An error answer listing each problem ("answers.B1: …")."""
    detail = ngettext(
        "The request has %(count)d problem.", "The request has %(count)d problems.", len(problems)
    ) % {"count": len(problems)}
    return error_response(code, detail, "invalid", problems)


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


class StoredResultSerializer(AssessmentSerializer):
    result = serializers.JSONField(help_text="The result stored at submission")

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "result"]


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


class AssessmentFilter(django_filters.FilterSet):
    round = IdFilter(field_name="round_id", help_text="Round id")
    status = django_filters.ChoiceFilter(
        choices=Assessment.Status.choices, help_text="draft or submitted"
    )
    firm = text_filter("firm__uscc", 18, "The firm's USCC")

    class Meta:
        model = Assessment
        fields = ["round", "status", "firm"]


class AssessmentListApi(generics.ListAPIView):
    """The assessments the user may see: their firms' drafts and results, and (officials)
    the submitted results of firms in their scope."""

    permission_classes = [SignedIn]
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter

    def get_queryset(self) -> QuerySet[Assessment]:
        return _assessments_for(self.request)


class AssessmentDetailApi(generics.RetrieveAPIView):
    """One assessment with its stored result and (for the firm's own users) its answers."""

    permission_classes = [SignedIn]
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

    permission_classes = [SignedIn]

    @extend_schema(
        request=AnswerPutSerializer,
        responses={
            200: AnswerSavedSerializer,
            400: error("Invalid answer"),
            404: error("No such assessment"),
            409: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="AnswerConflictOrLocked",
                    serializers=[AnswerSavedSerializer, ErrorSerializer],
                    resource_type_field_name=None,
                ),
                description="Changed elsewhere since base_revision (the other value), or no "
                "longer open (an error)",
            ),
        },
    )
    def put(self, request: Request, pk: int, code: str) -> Response:
        """200 saved/unchanged; 409 with the other value on a conflict; 400 with problems."""
        assessment = assessment_selectors.assessment_for_user(request.user, pk)
        if not assessment_selectors.can_answer(request.user, assessment):
            raise Http404
        body = AnswerPutSerializer(data=json_body(request))
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
            return error_response(status.HTTP_409_CONFLICT, exc.message, "locked")
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


# --- Rounds (officials): list, open, close ---------------------------------------------------

ROUND_STATES = ("upcoming", "open", "closed")
MAX_BATCH = 500  # answers, or invitations, in one request


def _round_state(round_: Round, now: Any) -> str:
    if now < round_.opens_at:
        return "upcoming"
    return "open" if now < round_.closes_at else "closed"


class RoundSerializer(serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.slug")
    framework = serializers.CharField(source="framework_version.framework.slug")
    version = serializers.CharField(source="framework_version.version")
    state = serializers.SerializerMethodField()
    invited = serializers.IntegerField()
    started = serializers.IntegerField()
    submitted = serializers.IntegerField()

    class Meta:
        model = Round
        fields = [
            "id",
            "cluster",
            "framework",
            "version",
            "name",
            "opens_at",
            "closes_at",
            "state",
            "invited",
            "started",
            "submitted",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ROUND_STATES))
    def get_state(self, obj: Round) -> str:
        return _round_state(obj, self.context.get("now") or timezone.now())


class RoundCreateSerializer(serializers.Serializer):
    cluster = serializers.SlugField(max_length=100, help_text="Cluster slug")
    framework = serializers.SlugField(max_length=100, help_text="Framework slug")
    version = serializers.CharField(max_length=40, help_text="A published version")
    name = serializers.CharField(max_length=200)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()


class RoundFilter(django_filters.FilterSet):
    cluster = text_filter("cluster__slug", 100, "Cluster slug")
    state = django_filters.ChoiceFilter(
        choices=[(s, s) for s in ROUND_STATES], method="filter_state", help_text="Round state"
    )

    class Meta:
        model = Round
        fields = ["cluster", "state"]

    def filter_state(self, queryset: QuerySet[Round], name: str, value: str) -> QuerySet[Round]:
        now = timezone.now()
        if value == "upcoming":
            return queryset.filter(opens_at__gt=now)
        if value == "open":
            return queryset.filter(opens_at__lte=now, closes_at__gt=now)
        return queryset.filter(closes_at__lte=now)


def _rounds_for(user: Any) -> QuerySet[Round]:
    """The rounds the user oversees, with their response figures."""
    return (
        assessment_selectors.rounds_visible_to(user)
        .select_related("cluster", "framework_version__framework")
        .annotate(
            invited=Count("invitations", distinct=True),
            started=Count("assessments", distinct=True),
            submitted=Count(
                "assessments",
                filter=Q(assessments__status=Assessment.Status.SUBMITTED),
                distinct=True,
            ),
        )
        .order_by("-opens_at", "-id")
    )


def _round_of(request: Request, pk: int) -> Round:
    """A round the user oversees, with its figures; Http404 otherwise."""
    return get_object_or_404(_rounds_for(request.user), pk=pk)


def _validation_error(exc: ValidationError) -> Response:
    """A service's ValidationError as 422, one problem per field."""
    if hasattr(exc, "error_dict"):
        problems = [f"{f}: {m}" for f, errors in exc.message_dict.items() for m in errors]
    else:
        problems = [f"body: {m}" for m in exc.messages]
    return _problems(problems, HTTP_422)


class RoundListApi(generics.ListAPIView):
    """The rounds of the clusters the user oversees, newest first; POST opens a new one."""

    serializer_class = RoundSerializer
    filterset_class = RoundFilter

    def get_queryset(self) -> QuerySet[Round]:
        return _rounds_for(self.request.user)

    @extend_schema(
        request=RoundCreateSerializer,
        responses={
            201: RoundSerializer,
            404: error("No such cluster, or one you do not oversee"),
            422: error("Refused: no such published version, dates in the wrong order, no name"),
        },
    )
    def post(self, request: Request) -> Response:
        """Open a round on a published framework version: 201 with the round."""
        data = validated(RoundCreateSerializer, request)
        cluster = get_object_or_404(
            cluster_selectors.clusters_visible_to(request.user), slug=data["cluster"]
        )
        if not cluster_selectors.can_manage_cluster(request.user, cluster):
            raise Http404
        version = (
            FrameworkVersion.objects.published()
            .filter(framework__slug=data["framework"], version=data["version"])
            .first()
        )
        if version is None:
            return _problems(["version: " + _("No such published framework version.")], HTTP_422)
        try:
            round_ = assessment_services.round_open(
                user=cast(User, request.user),
                cluster=cluster,
                framework_version=version,
                name=data["name"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
            )
        except ValidationError as exc:
            return _validation_error(exc)
        out = RoundSerializer(_round_of(request, round_.pk))
        return Response(out.data, status=status.HTTP_201_CREATED)


class RoundDetailApi(generics.RetrieveAPIView):
    """One round the user oversees, with its response figures."""

    serializer_class = RoundSerializer

    def get_object(self) -> Round:
        return _round_of(self.request, self.kwargs["pk"])


class RoundCloseApi(APIView):
    """Close an open round now: drafts can no longer change, links join nobody."""

    @extend_schema(
        request=None,
        responses={200: RoundSerializer, 409: error("The round is upcoming or closed already")},
    )
    def post(self, request: Request, pk: int) -> Response:
        """200 with the closed round; 409 when it is not open."""
        round_ = _round_of(request, pk)
        if not cluster_selectors.can_manage_cluster(request.user, round_.cluster):
            raise Http404
        try:
            assessment_services.round_close(round_, user=cast(User, request.user))
        except assessment_services.RoundNotOpen as exc:
            return error_response(status.HTTP_409_CONFLICT, exc.message, "not_open")
        return Response(RoundSerializer(_round_of(request, pk)).data)


# --- Invitations (officials): list with status, invite in bulk, remind ------------------------

INVITATION_STATES = ("invited", "sent", "opened", "accepted", "started", "submitted")


class InvitationSerializer(serializers.ModelSerializer):
    firm = serializers.CharField(source="firm.uscc", help_text="The firm's USCC")
    firm_name = serializers.CharField(source="firm.name")
    # Not an EmailField: "" when the invitation has no address, which is not an e-mail.
    email = serializers.CharField(help_text="The address it is e-mailed to, or empty")
    status = serializers.ChoiceField(
        choices=INVITATION_STATES,
        help_text="invited → sent (e-mailed) → opened (link first visited) → accepted (a user "
        "joined the firm through the link) → started → submitted",
    )
    opened_at = serializers.DateTimeField(
        allow_null=True, help_text="When the link was first visited (null: not yet)"
    )
    reminders = serializers.IntegerField(
        help_text="Reminder e-mails queued or sent in this round (failed ones do not count)"
    )
    url = serializers.SerializerMethodField(help_text="The firm's invitation link")

    class Meta:
        model = Invitation
        fields = [
            "id",
            "firm",
            "firm_name",
            "email",
            "status",
            "sent_at",
            "opened_at",
            "accepted_at",
            "reminders",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, obj: Invitation) -> str:
        return assessment_services.invitation_url(obj)


class InvitationsCreateSerializer(serializers.Serializer):
    firms = serializers.ListField(
        child=serializers.CharField(max_length=18),
        required=False,
        max_length=MAX_BATCH,
        help_text="USCCs of the cluster's firms to invite; leave out to invite every firm",
    )
    emails = serializers.DictField(
        child=serializers.EmailField(max_length=254),
        required=False,
        help_text="USCC to e-mail address (else the register's contact e-mail)",
    )
    send = serializers.BooleanField(
        default=False,
        help_text="E-mail the invitation to those with an address that have not had it yet",
    )
    language = serializers.ChoiceField(choices=["zh-hans", "en"], default="zh-hans")

    def validate_emails(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_BATCH:
            raise serializers.ValidationError(
                _("At most %(n)d addresses in one request.") % {"n": MAX_BATCH}
            )
        return value


class MailingSerializer(serializers.Serializer):
    """assessments.services.MailingOutcome: what an invite or remind request did."""

    invited = serializers.IntegerField(help_text="Invitations created")
    queued = serializers.IntegerField(help_text="E-mails queued (sent now, or by the worker)")
    sent_now = serializers.IntegerField(help_text="Of those, sent within the request")
    without_email = serializers.IntegerField(
        help_text="Firms with no address: give them the link from the list"
    )
    skipped = serializers.IntegerField(
        help_text="Already e-mailed, e-mailed within 24 hours, or at the most reminders"
    )


class InvitationsCreatedSerializer(serializers.Serializer):
    invitations = InvitationSerializer(many=True)
    mailing = MailingSerializer(allow_null=True, help_text="The e-mails sent; null unless send")


class RemindSerializer(serializers.Serializer):
    firms = serializers.ListField(
        child=serializers.CharField(max_length=18),
        required=False,
        min_length=1,
        # Each chosen firm is e-mailed within the request; the whole round goes to the worker.
        max_length=assessment_services.INLINE_SEND_LIMIT,
        help_text="USCCs of invited firms to remind (at most 20, e-mailed at once); leave out "
        "to remind every firm that has not submitted",
    )
    language = serializers.ChoiceField(choices=["zh-hans", "en"], default="zh-hans")


class RefusedSerializer(serializers.Serializer):
    firm = serializers.CharField(help_text="The firm's USCC")
    reason = serializers.CharField()


class RemindedSerializer(MailingSerializer):
    refused = RefusedSerializer(
        many=True, help_text="Chosen firms that cannot be reminded now, and why"
    )


class InvitationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(s, s) for s in INVITATION_STATES], help_text="Invitation status"
    )

    class Meta:
        model = Invitation
        fields = ["status"]


def _managed_round(request: Request, pk: int) -> Round:
    """A round of a cluster the user manages; Http404 for any other (also one only seen)."""
    round_ = assessment_selectors.round_for_official(request.user, pk)
    if not cluster_selectors.can_manage_cluster(request.user, round_.cluster):
        raise Http404
    return round_


def _closed(round_: Round) -> Response | None:
    """422 when the round is closed (the services' rule): nobody is invited or reminded."""
    try:
        assessment_services.round_open_or_refuse(round_)
    except assessment_services.RoundClosed as exc:
        return _problems([f"body: {exc.message}"], HTTP_422)
    return None


def _unknown_firms(codes: list[str], message: str) -> Response:
    """422 naming each firm (by USCC) that the request may not name; `message` has %(uscc)s."""
    return _problems([f"firms: {message % {'uscc': c}}" for c in codes], HTTP_422)


def _mailing(outcome: assessment_services.MailingOutcome) -> dict[str, int]:
    return {
        "invited": outcome.invited,
        "queued": outcome.queued,
        "sent_now": outcome.sent_now,
        "without_email": outcome.without_email,
        "skipped": outcome.skipped,
    }


class RoundInvitationsApi(generics.ListAPIView):
    """A round's invitations with their status; POST invites firms in bulk."""

    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter

    def get_queryset(self) -> QuerySet[Invitation]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no round
            return Invitation.objects.none()
        return assessment_selectors.round_invitations(
            assessment_selectors.round_for_official(self.request.user, self.kwargs["pk"])
        )

    @extend_schema(
        request=InvitationsCreateSerializer,
        filters=False,
        responses={
            201: InvitationsCreatedSerializer,
            422: error("A firm that is not in the round's cluster, or a closed round"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """Invite firms (every firm of the cluster when `firms` is left out): 201 with the
        invitations. Inviting a firm again keeps its link; a new address replaces the old.
        With `send`, each invitation is e-mailed once (a repeated request mails nobody twice)."""
        round_ = _managed_round(request, pk)
        data = validated(InvitationsCreateSerializer, request)
        refused = _closed(round_)
        if refused is not None:
            return refused
        members = {f.uscc: f for f in Firm.objects.filter(memberships__cluster=round_.cluster)}
        codes = list(dict.fromkeys([*data.get("firms", []), *data.get("emails", {})]))
        unknown = [c for c in codes if c not in members]
        if unknown:
            return _unknown_firms(unknown, _("Not a firm of the round’s cluster: %(uscc)s"))
        firms = [members[c] for c in data["firms"]] if "firms" in data else list(members.values())
        emails = {members[c].pk: e for c, e in data.get("emails", {}).items()}
        user = cast(User, request.user)
        mailing = None
        try:
            if data["send"]:
                # The round page's service: it records each e-mail and mails a firm once.
                outcome = assessment_services.round_invite(
                    round_,
                    user=user,
                    firm_ids=[f.pk for f in firms],
                    emails=emails,
                    language=data["language"],
                )
                mailing = _mailing(outcome)
            else:
                assessment_services.invitations_create(
                    round_, user=user, firms=firms, emails=emails
                )
        except ValidationError as exc:
            return _validation_error(exc)
        shown = assessment_selectors.round_invitations(round_).filter(firm__in=firms)
        out = {"invitations": InvitationSerializer(shown, many=True).data, "mailing": mailing}
        return Response(out, status=status.HTTP_201_CREATED)


class RoundRemindApi(APIView):
    """Remind by e-mail the invited firms of a round that have not submitted."""

    @extend_schema(
        request=RemindSerializer,
        responses={
            200: RemindedSerializer,
            422: error(
                "A closed round, a firm not invited to the round, or every chosen firm refused "
                "(submitted, no address, e-mailed within 24 hours, or at the most reminders)"
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """Every firm not yet submitted (or the chosen ones): 200 with the counts. A firm
        e-mailed within the last 24 hours, or reminded the most times, is skipped (all) or
        refused (chosen): repeating the request reminds nobody twice."""
        round_ = _managed_round(request, pk)
        data = validated(RemindSerializer, request)
        refused = _closed(round_)
        if refused is not None:
            return refused
        user = cast(User, request.user)
        if "firms" not in data:
            outcome = assessment_services.round_remind(round_, user=user, language=data["language"])
            return Response({**_mailing(outcome), "refused": []})
        codes = list(dict.fromkeys(data["firms"]))
        invited = {
            i.firm.uscc: i
            for i in round_.invitations.select_related("round__cluster", "firm").filter(
                firm__uscc__in=codes
            )
        }
        unknown = [c for c in codes if c not in invited]
        if unknown:
            return _unknown_firms(unknown, _("Not a firm invited to this round: %(uscc)s"))
        sent: list[InvitationMessage] = []
        reasons: list[dict[str, str]] = []
        for code in codes:
            try:
                sent.append(
                    assessment_services.invitation_remind(
                        invited[code], user=user, language=data["language"]
                    )
                )
            except assessment_services.ReminderRefused as exc:
                reasons.append({"firm": code, "reason": exc.message})
        if not sent:
            response = _problems([f"firms.{r['firm']}: {r['reason']}" for r in reasons], HTTP_422)
            response.data["code"] = "refused"
            return response
        body = {
            "invited": 0,
            "queued": len(sent),
            "sent_now": sum(1 for m in sent if m.status == InvitationMessage.Status.SENT),
            "without_email": 0,
            "skipped": 0,
            "refused": reasons,
        }
        return Response(body)


# --- Assessments (firms): start or resume, answers, submit, result ------------------------------


class AssessmentStartSerializer(serializers.Serializer):
    round = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Round id")
    firm = serializers.CharField(
        max_length=18,
        required=False,
        help_text="USCC of the firm you answer for; needed only when you answer for several",
    )


class AnswerInSerializer(serializers.Serializer):
    value = serializers.JSONField(allow_null=True, help_text="The answer; null clears it")
    base_revision = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, help_text="The revision you last saw (0: none)"
    )


class AnswersInSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=AnswerInSerializer(), help_text="Question code to {value, base_revision}"
    )

    def validate_answers(self, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise serializers.ValidationError(_("Give at least one answer."))
        if len(value) > MAX_BATCH:
            raise serializers.ValidationError(
                _("At most %(n)d answers in one request.") % {"n": MAX_BATCH}
            )
        return value


class StoredAnswerSerializer(serializers.Serializer):
    value = serializers.JSONField(allow_null=True)
    revision = serializers.IntegerField()


class AnswersOutSerializer(serializers.Serializer):
    answers = serializers.DictField(child=StoredAnswerSerializer())


class AnswersConflictSerializer(ErrorSerializer):
    conflicts = serializers.DictField(
        child=StoredAnswerSerializer(), help_text="What is stored now for each conflicting code"
    )


def _own_assessment(request: Request, pk: int) -> Assessment:
    """An assessment of one of the user's firms; Http404 for any other."""
    assessment = assessment_selectors.assessment_for_user(request.user, pk)
    if not assessment_selectors.can_answer(request.user, assessment):
        raise Http404
    return assessment


def _stored(assessment: Assessment) -> dict[str, dict[str, Any]]:
    return {
        code: {"value": value, "revision": revision}
        for code, (value, revision) in sorted(
            assessment_services.assessment_stored_answers(assessment).items()
        )
    }


class AssessmentStartApi(APIView):
    """Start the draft of a firm in a round it is invited to, or resume the one it has."""

    @extend_schema(
        request=AssessmentStartSerializer,
        responses={
            200: OpenApiResponse(AssessmentSerializer, description="Resumed"),
            201: OpenApiResponse(AssessmentSerializer, description="Started"),
            404: error("No such round, or none your firm is invited to"),
            422: error("You answer for several firms: name one"),
        },
    )
    def post(self, request: Request) -> Response:
        """201 with a new draft, or 200 with the firm's assessment in that round."""
        data = validated(AssessmentStartSerializer, request)
        firms = cluster_selectors.user_firms(request.user).filter(
            invitations__round_id=data["round"]
        )
        if "firm" in data:
            firms = firms.filter(uscc=data["firm"])
        candidates = list(firms.distinct()[:2])
        if not candidates:
            raise Http404
        if len(candidates) > 1:
            return _problems(["firm: " + _("You answer for several firms: name one.")], HTTP_422)
        round_ = Round.objects.get(pk=data["round"])
        firm = candidates[0]
        existed = Assessment.objects.filter(round=round_, firm=firm).exists()
        try:
            assessment = assessment_services.assessment_start_or_resume(
                round_, firm, user=cast(User, request.user)
            )
        except PermissionDenied:
            raise Http404 from None
        out = AssessmentSerializer(_assessments_for(request).get(pk=assessment.pk)).data
        return Response(out, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


_ANSWERS_SAVE_RESPONSES = {
    200: AnswersOutSerializer,
    409: OpenApiResponse(
        PolymorphicProxySerializer(
            component_name="AnswersConflictOrLocked",
            serializers=[AnswersConflictSerializer, ErrorSerializer],
            resource_type_field_name=None,
        ),
        description="Changed elsewhere since base_revision, or no longer open; nothing is saved",
    ),
    422: error("Answers that do not fit their questions, each named; nothing is saved"),
}


class AssessmentAnswersApi(APIView):
    """A draft's answers: read them all, or save one or many in one request."""

    @extend_schema(responses={200: AnswersOutSerializer})
    def get(self, request: Request, pk: int) -> Response:
        """Every saved answer with its revision ({} for a fresh draft)."""
        return Response({"answers": _stored(_own_assessment(request, pk))})

    @extend_schema(request=AnswersInSerializer, responses=_ANSWERS_SAVE_RESPONSES)
    def patch(self, request: Request, pk: int) -> Response:
        """Save the answers given, all or none; the others stay. 200 with every answer."""
        assessment = _own_assessment(request, pk)
        answers = validated(AnswersInSerializer, request)["answers"]
        given = {code: (item["value"], item["base_revision"]) for code, item in answers.items()}
        try:
            assessment_services.answers_save(assessment, given, user=cast(User, request.user))
        except assessment_services.AnswersRejected as exc:
            return _problems([f"answers.{c}: {m}" for c, m in exc.problems.items()], HTTP_422)
        except assessment_services.AnswersConflict as exc:
            conflicts = [o for o in exc.outcomes if o.conflict]
            response = _problems(
                [
                    f"answers.{o.code}: " + _("Changed elsewhere since your revision.")
                    for o in conflicts
                ],
                status.HTTP_409_CONFLICT,
            )
            response.data["code"] = "conflict"
            response.data["conflicts"] = {
                o.code: {"value": o.other_value, "revision": o.revision} for o in conflicts
            }
            return response
        except assessment_services.AssessmentLocked as exc:
            return error_response(status.HTTP_409_CONFLICT, exc.message, "locked")
        return Response({"answers": _stored(assessment)})

    @extend_schema(
        operation_id="v1_assessments_answers_put_many",
        request=AnswersInSerializer,
        responses=_ANSWERS_SAVE_RESPONSES,
    )
    def put(self, request: Request, pk: int) -> Response:
        """The same as PATCH: answers are saved per question, never replaced wholesale, so
        that a client cannot clear another tab's answers by leaving them out."""
        return self.patch(request, pk)


class AssessmentSubmitApi(APIView):
    """Submit a draft: it is scored and its result stored; it can no longer change."""

    @extend_schema(
        request=None,
        responses={
            200: AssessmentDetailSerializer,
            409: error("Submitted already, or the round is not open"),
            422: error("Questions unanswered or answers invalid, each named"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """200 with the result; 422 naming every missing or invalid answer."""
        assessment = _own_assessment(request, pk)
        try:
            assessment_services.assessment_submit(assessment, user=cast(User, request.user))
        except assessment_services.SubmissionIncomplete as exc:
            problems = [f"answers.{c}: " + _("This question needs an answer.") for c in exc.missing]
            problems += [p if p.startswith("answers.") else f"answers.{p}" for p in exc.problems]
            response = _problems(problems, HTTP_422)
            response.data["code"] = "incomplete"
            return response
        except assessment_services.AssessmentLocked as exc:
            return error_response(status.HTTP_409_CONFLICT, exc.message, "locked")
        submitted = _assessments_for(request).get(pk=pk)
        context = {"request": request, "can_answer": True}
        return Response(AssessmentDetailSerializer(submitted, context=context).data)


class AssessmentResultApi(APIView):
    """The stored result of a submitted assessment (the firm's users and its officials)."""

    @extend_schema(responses={200: StoredResultSerializer, 409: error("Not submitted yet")})
    def get(self, request: Request, pk: int) -> Response:
        """200 with the stored result; 409 for a draft."""
        assessment = assessment_selectors.assessment_for_user(request.user, pk)
        if not assessment.is_submitted or assessment.result is None:
            return error_response(
                status.HTTP_409_CONFLICT, _("This assessment is not submitted yet."), "draft"
            )
        return Response(StoredResultSerializer(assessment).data)
