"""Who may see what in the programme: every scoped read of programmes goes through here.

- staff see everything;
- a regional official sees the programmes of their region's subtree, the projects of those
  programmes and of the firms they oversee, and the providers registered or serving there;
- a cluster official sees the projects of their clusters' firms, with those projects'
  programmes and providers;
- a provider's member sees their provider and its projects, nothing else;
- a firm user sees their own firm's projects;
- an assessor sees the submitted assessments of their scope (a region's firms, or one
  programme's project firms) and may verify them.

Anything outside the scope is answered exactly like something that does not exist (Http404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from assessments.models import Assessment
from clusters import selectors as cluster_selectors
from clusters.models import Region
from programmes.models import (
    AssessorScope,
    Evidence,
    Programme,
    Provider,
    RetrofitProject,
    Verification,
)


def _anonymous(user: Any) -> bool:
    return user is None or not getattr(user, "is_authenticated", False) or not user.is_active


def _staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def _path_q(paths: list[str], field: str) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        if path:  # an unset path would match everything: never let it through
            condition |= Q(**{f"{field}__startswith": path})
    return condition


def _official_region_paths(user: Any) -> list[str]:
    return cluster_selectors._scope_region_paths(user)


def _assessor_region_paths(user: Any) -> list[str]:
    return list(
        AssessorScope.objects.filter(user=user, region__isnull=False).values_list(
            "region__path", flat=True
        )
    )


# --- Roles ------------------------------------------------------------------------------------


def is_assessor(user: Any) -> bool:
    """True when the user verifies somewhere (has an assessor scope)."""
    if _anonymous(user):
        return False
    return AssessorScope.objects.filter(user=user).exists()


def is_provider_user(user: Any) -> bool:
    """True when the user works for a service provider."""
    if _anonymous(user):
        return False
    return user.provider_memberships.exists()


def user_providers(user: Any) -> QuerySet[Provider]:
    """The providers the user works for."""
    if _anonymous(user):
        return Provider.objects.none()
    return Provider.objects.filter(members__user=user)


# --- Programmes, projects, providers ------------------------------------------------------------


def projects_visible_to(user: Any) -> QuerySet[RetrofitProject]:
    """Projects the user may open (see the module docstring for who sees which)."""
    if _anonymous(user):
        return RetrofitProject.objects.none()
    if _staff(user):
        return RetrofitProject.objects.all()
    # The firm's scope through the project's own joins (projects are few, firms many).
    condition = cluster_selectors.firm_scope_q(user, "firm__")
    paths = _official_region_paths(user)
    if paths:
        condition |= _path_q(paths, "programme__region__path")
    condition |= Q(provider__members__user=user)
    return RetrofitProject.objects.filter(
        pk__in=RetrofitProject.objects.filter(condition).values("pk")
    )


def programmes_visible_to(user: Any) -> QuerySet[Programme]:
    """Programmes of the user's regions, and those of the projects the user may see."""
    if _anonymous(user):
        return Programme.objects.none()
    if _staff(user):
        return Programme.objects.all()
    condition = Q(pk__in=projects_visible_to(user).values("programme_id"))
    paths = _official_region_paths(user)
    if paths:
        condition |= _path_q(paths, "region__path")
    condition |= Q(assessor_scopes__user=user)
    assessor_paths = _assessor_region_paths(user)
    if assessor_paths:
        condition |= _path_q(assessor_paths, "region__path")
    return Programme.objects.filter(pk__in=Programme.objects.filter(condition).values("pk"))


def programmes_managed_by(user: Any) -> QuerySet[Programme]:
    """Programmes the user may run (add projects, move stages): their regions' programmes."""
    if _anonymous(user):
        return Programme.objects.none()
    if _staff(user):
        return Programme.objects.all()
    paths = _official_region_paths(user)
    if not paths:
        return Programme.objects.none()
    return Programme.objects.filter(_path_q(paths, "region__path"))


def providers_visible_to(user: Any) -> QuerySet[Provider]:
    """Providers of the user's regions (registered or serving there), their own provider, and
    the providers of the projects they may see."""
    if _anonymous(user):
        return Provider.objects.none()
    if _staff(user):
        return Provider.objects.all()
    condition = Q(pk__in=projects_visible_to(user).values("provider_id"))
    condition |= Q(members__user=user)
    paths = _official_region_paths(user)
    if paths:
        condition |= _path_q(paths, "region__path")
        condition |= _path_q(paths, "regions_served__path")
    return Provider.objects.filter(pk__in=Provider.objects.filter(condition).values("pk"))


def providers_managed_by(user: Any) -> QuerySet[Provider]:
    """Providers whose register entry the user keeps: those registered under their regions."""
    if _anonymous(user):
        return Provider.objects.none()
    if _staff(user):
        return Provider.objects.all()
    paths = _official_region_paths(user)
    if not paths:
        return Provider.objects.none()
    return Provider.objects.filter(_path_q(paths, "region__path"))


def regions_managed_by(user: Any) -> QuerySet[Region]:
    """Regions in which the user may register providers and run programmes."""
    if _staff(user):
        return Region.objects.all()
    paths = _official_region_paths(user) if not _anonymous(user) else []
    if not paths:
        return Region.objects.none()
    return Region.objects.filter(_path_q(paths, "path"))


def programme_for_user(user: Any, pk: int) -> Programme:
    """One programme the user may see, or Http404."""
    found = (
        programmes_visible_to(user)
        .select_related("region", "framework_version__framework")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def project_for_user(user: Any, pk: int) -> RetrofitProject:
    """One project the user may see, or Http404."""
    found = (
        projects_visible_to(user)
        .select_related(
            "programme__region",
            "programme__framework_version__framework",
            "firm",
            "provider",
            "baseline__round",
            "acceptance__round",
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def provider_for_user(user: Any, pk: int) -> Provider:
    """One provider the user may see, or Http404."""
    found = providers_visible_to(user).select_related("region").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def can_manage_project(user: Any, project: RetrofitProject) -> bool:
    """True when the user may change the project (its programme is theirs to run)."""
    return programmes_managed_by(user).filter(pk=project.programme_id).exists()


# --- Verification -----------------------------------------------------------------------------


def verifiable_assessments(user: Any) -> QuerySet[Assessment]:
    """Submitted assessments the user may verify as an assessor (staff: none: verifying is
    the assessors' work, and staff act through the admin)."""
    if _anonymous(user):
        return Assessment.objects.none()
    condition = Q(pk__in=[])
    paths = _assessor_region_paths(user)
    if paths:
        condition |= _path_q(paths, "round__cluster__region__path")
        condition |= _path_q(paths, "firm__region__path")
    programme_ids = AssessorScope.objects.filter(user=user, programme__isnull=False).values(
        "programme_id"
    )
    condition |= Q(baseline_of__programme_id__in=programme_ids)
    condition |= Q(acceptance_of__programme_id__in=programme_ids)
    return Assessment.objects.submitted().filter(
        pk__in=Assessment.objects.filter(condition).values("pk")
    )


def verification_worklist(user: Any) -> QuerySet[Assessment]:
    """The assessor's work list: submitted assessments of their scope that are part of a
    project (baseline or acceptance) and not verified yet, oldest submission first."""
    in_projects = Q(baseline_of__isnull=False) | Q(acceptance_of__isnull=False)
    return (
        verifiable_assessments(user)
        .filter(pk__in=Assessment.objects.filter(in_projects).values("pk"))
        .filter(verified_at__isnull=True)
        .select_related("firm", "round__cluster", "framework_version__framework")
        .order_by("submitted_at", "pk")
    )


def assessment_to_verify(user: Any, pk: int) -> Assessment:
    """One submitted assessment the user may verify, or Http404."""
    found = (
        verifiable_assessments(user)
        .select_related("firm", "round__cluster", "framework_version__framework")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def verification_for_user(user: Any, assessment: Assessment) -> Verification | None:
    """The completed verification of an assessment the user may already see (the caller
    checked that through `assessments.selectors`), or None when there is none yet.

    Its assessor, for the firm and the officials, and in progress only for assessors.
    """
    verification = (
        Verification.objects.filter(assessment=assessment).select_related("assessor").first()
    )
    if verification is None:
        return None
    if verification.is_completed:
        return verification
    if verifiable_assessments(user).filter(pk=assessment.pk).exists():
        return verification
    return None


def evidence_for_user(user: Any, pk: int) -> Evidence:
    """One evidence file the user may download, or Http404.

    Assessors of the assessment's scope, and whoever may see the assessment once the
    verification is completed: its firm's users (never another firm's), its officials, staff.
    """
    from assessments.selectors import assessments_visible_to

    evidence = Evidence.objects.select_related("verification").filter(pk=pk).first()
    if evidence is None:
        raise Http404
    assessment_id = evidence.verification.assessment_id
    if verifiable_assessments(user).filter(pk=assessment_id).exists():
        return evidence
    if (
        evidence.verification.is_completed
        and assessments_visible_to(user).filter(pk=assessment_id).exists()
    ):
        return evidence
    raise Http404


def firm_region_paths(firm_id: int) -> list[str]:
    """Paths of the regions a firm lies in: its own, and those of its clusters."""
    from clusters.models import Firm

    firm = Firm.objects.select_related("region").get(pk=firm_id)
    paths = {m.cluster.region.path for m in firm.memberships.select_related("cluster__region")}
    if firm.region is not None:
        paths.add(firm.region.path)
    return sorted(p for p in paths if p)


def firm_in_region(firm_id: int, region: Region) -> bool:
    """True when the firm lies in the region's subtree (registered there, or a cluster there)."""
    return any(path.startswith(region.path) for path in firm_region_paths(firm_id) if region.path)
