"""Services for framework versions: load a parsed framework into the database, publish it, and
get the parsed `Framework` of a stored version back (cached)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Literal

from django.db import transaction
from django.utils import timezone

from assessments.framework import Framework as ParsedFramework
from assessments.framework import parse_framework, text
from assessments.models import Framework, FrameworkVersion

LoadStatus = Literal["created", "unchanged", "updated"]

_CACHE_SIZE = 64
_cache: OrderedDict[tuple[int, str], ParsedFramework] = OrderedDict()
_cache_lock = threading.Lock()


class FrameworkVersionConflict(Exception):
    """Loading would change a published version."""


def content_hash(definition: object) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of a definition."""
    return FrameworkVersion.hash_definition(definition)


@transaction.atomic
def framework_version_load(
    fw: ParsedFramework, *, publish: bool = True
) -> tuple[FrameworkVersion, LoadStatus]:
    """Store a parsed framework as a version; returns it with "created", "unchanged" or "updated".

    Idempotent: loading the same content again changes nothing. A draft with other content is
    replaced ("updated"). A published version whose content differs is refused with
    FrameworkVersionConflict, which names the version.
    """
    digest = content_hash(fw.definition)
    framework, _ = Framework.objects.select_for_update().get_or_create(
        slug=fw.slug, defaults={"title": dict(fw.title)}
    )
    if framework.title != dict(fw.title):
        framework.title = dict(fw.title)
        framework.save(update_fields=["title"])
    source = text(fw.source, fw.default_language) if fw.source else ""
    version = (
        FrameworkVersion.objects.select_for_update()
        .filter(framework=framework, version=fw.version)
        .first()
    )
    if version is None:
        version = FrameworkVersion.objects.create(
            framework=framework,
            version=fw.version,
            title=dict(fw.title),
            source=source,
            definition=fw.definition,
            content_hash=digest,
        )
        if publish:
            framework_version_publish(version)
        return version, "created"
    if version.content_hash == digest:
        if publish and not version.is_published:
            framework_version_publish(version)
            return version, "updated"
        return version, "unchanged"
    if version.is_published:
        raise FrameworkVersionConflict(
            f"{fw.slug} {fw.version} is published and its content differs; "
            "publish a new version instead"
        )
    version.title = dict(fw.title)
    version.source = source
    version.definition = fw.definition
    version.content_hash = digest
    version.save(update_fields=["title", "source", "definition", "content_hash"])
    if publish:
        framework_version_publish(version)
    return version, "updated"


@transaction.atomic
def framework_version_publish(version: FrameworkVersion) -> FrameworkVersion:
    """Publish a version (idempotent); from then on its content can never change."""
    locked = FrameworkVersion.objects.select_for_update().get(pk=version.pk)
    if not locked.is_published:
        # Refuse to publish anything the engine cannot read.
        parse_framework(locked.definition)
        locked.status = FrameworkVersion.Status.PUBLISHED
        locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_at"])
    version.status = locked.status
    version.published_at = locked.published_at
    return version


@transaction.atomic
def framework_version_declare_comparable(
    version: FrameworkVersion, older: FrameworkVersion
) -> FrameworkVersion:
    """Declare that `version`'s levels mean the same as `older`'s (an earlier version of the
    same framework), so that reports show changes between rounds on the two; returns it."""
    if older.framework_id != version.framework_id or older.pk == version.pk:
        raise FrameworkVersionConflict(
            f"{version} can only be declared comparable with another version of the same "
            f"framework, not with {older}"
        )
    FrameworkVersion.objects.filter(pk=version.pk).update(levels_comparable_with=older)
    version.levels_comparable_with = older
    return version


def framework_for(version: FrameworkVersion) -> ParsedFramework:
    """The parsed Framework of a stored version, cached per (pk, content hash)."""
    key = (version.pk, version.content_hash)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    parsed = parse_framework(version.definition)
    with _cache_lock:
        _cache[key] = parsed
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return parsed
