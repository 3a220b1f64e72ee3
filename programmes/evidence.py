"""Evidence of an on-site verification: photos, PDFs and screenshots attached to one question.

What a file is, is judged from its content (magic bytes; images are opened and verified with
Pillow), never from its name or the browser's content type: JPEG, PNG, WebP and PDF only. A file
is at most `settings.EVIDENCE_MAX_BYTES` (8 MB by default), a question has at most
`PER_QUESTION` files and a verification at most `PER_VERIFICATION`. The uploader's file name is
sanitised and kept for display only; the stored name is random, under the private media folder
(`MEDIA_URL` is not served): files leave only through `verification_views.evidence_download`,
which asks `selectors.evidence_for_user`.

Refusals raise `ProgrammeRuleError` naming the file and the limit, and store nothing. Once the
verification is completed nothing is added or removed.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from assessments.versions import framework_for
from programmes.models import Evidence, Verification
from programmes.services import ProgrammeRuleError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PER_QUESTION = 10
PER_VERIFICATION = 200
NAME_MAX = 120  # Evidence.original_name
# An image with more pixels than this is refused (a decompression bomb is small on disk).
MAX_PIXELS = 60_000_000

# content type -> (extension of the stored file, the format Pillow must read, "" for PDF)
TYPES: dict[str, tuple[str, str]] = {
    "image/jpeg": (".jpg", "JPEG"),
    "image/png": (".png", "PNG"),
    "image/webp": (".webp", "WEBP"),
    "application/pdf": (".pdf", ""),
}
IMAGE_TYPES = frozenset(t for t, (_ext, fmt) in TYPES.items() if fmt)


def max_bytes() -> int:
    """The size cap of one evidence file, in bytes (settings.EVIDENCE_MAX_BYTES)."""
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", 8 * 1024 * 1024))


def sniff(head: bytes) -> str:
    """The content type that a file's first bytes announce, or "" for none of the four."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return ""


_SEPARATORS = re.compile(r"[\\/]+")


def display_name(raw: str, content_type: str = "") -> str:
    """The uploader's file name made safe to keep and show: no folders, no control or path
    characters, unicode (Chinese) kept, at most NAME_MAX characters with its extension."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = _SEPARATORS.split(name)[-1]  # "C:\\photos\\a.png" and "../../a.png" alike
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    try:
        name = get_valid_filename(name)
    except SuspiciousFileOperation:
        name = ""
    name = name.lstrip(".")
    if not name:
        ext = TYPES.get(content_type, ("", ""))[0]
        name = _("evidence") + ext
    if len(name) > NAME_MAX:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[: NAME_MAX - len(ext)] + ext
    return name


def _refuse(message: str, code: str) -> ProgrammeRuleError:
    return ProgrammeRuleError(message, field=code)


def _check_image(handle: IO[bytes], name: str, content_type: str, code: str) -> None:
    """Open and verify an image with Pillow: its format must be the one its bytes announce."""
    expected = TYPES[content_type][1]
    not_image = _refuse(
        _("“%(name)s” looks like a %(kind)s image but cannot be read as one; it may be damaged.")
        % {"name": name, "kind": expected},
        code,
    )
    handle.seek(0)
    try:
        with Image.open(handle) as image:
            if image.format != expected:
                raise not_image
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _refuse(
                    _(
                        "“%(name)s” is %(width)s × %(height)s pixels; images may have at most "
                        "%(max)s million pixels."
                    )
                    % {
                        "name": name,
                        "width": width,
                        "height": height,
                        "max": MAX_PIXELS // 1_000_000,
                    },
                    code,
                )
            image.verify()
    except ProgrammeRuleError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_image from None
    finally:
        handle.seek(0)


def _refuse_too_large(name: str, size: int, code: str) -> ProgrammeRuleError:
    return _refuse(
        _("“%(name)s” is %(size)s; an evidence file may be at most %(max)s.")
        % {"name": name, "size": filesizeformat(size), "max": filesizeformat(max_bytes())},
        code,
    )


def refuse_upload_too_large(name: str, size: int, code: str = "") -> ProgrammeRuleError:
    """The refusal of an upload whose request is already larger than the cap (for the view,
    which refuses it before reading the body)."""
    return _refuse_too_large(display_name(name) if name else _("The file"), size, code)


@transaction.atomic
def evidence_add(
    verification: Verification, code: str, uploaded_file: UploadedFile, user: User
) -> Evidence:
    """Check one uploaded file and store it as evidence for question `code`; returns it."""
    verification = (
        Verification.objects.select_for_update()
        .select_related("assessment__framework_version")
        .get(pk=verification.pk)
    )
    if verification.is_completed:
        raise _refuse(
            _("This verification has been completed and is locked; no evidence can be added."),
            code,
        )
    framework = framework_for(verification.assessment.framework_version)
    try:
        framework.question(code)
    except KeyError:
        raise _refuse(_("There is no question %(code)s.") % {"code": code}, code) from None
    shown = display_name(uploaded_file.name or "")
    size = uploaded_file.size or 0
    # The size first, from what the upload declares: a file over the cap is never read.
    if size > max_bytes():
        raise _refuse_too_large(shown, size, code)
    if size == 0:
        raise _refuse(_("“%(name)s” is empty.") % {"name": shown}, code)
    on_question = verification.evidence.filter(question_code=code).count()
    if on_question >= PER_QUESTION:
        raise _refuse(
            _(
                "“%(name)s” was not added: a question may have at most %(max)s evidence files; "
                "remove one first."
            )
            % {"name": shown, "max": PER_QUESTION},
            code,
        )
    if verification.evidence.count() >= PER_VERIFICATION:
        raise _refuse(
            _("“%(name)s” was not added: a verification may have at most %(max)s evidence files.")
            % {"name": shown, "max": PER_VERIFICATION},
            code,
        )
    handle = uploaded_file.file
    if handle is None:
        raise _refuse(_("“%(name)s” is empty.") % {"name": shown}, code)
    handle.seek(0)
    content_type = sniff(handle.read(16))
    handle.seek(0)
    if not content_type:
        raise _refuse(
            _(
                "“%(name)s” is not a JPEG, PNG or WebP image or a PDF file (judged by its "
                "content, whatever its name says)."
            )
            % {"name": shown},
            code,
        )
    if content_type in IMAGE_TYPES:
        _check_image(handle, shown, content_type, code)
    extension = TYPES[content_type][0]
    # The shown name says what the file is: "photo.jpg" that is a PDF is shown as "photo.pdf".
    stem, ext = os.path.splitext(shown)
    if ext.lower() not in {extension, ".jpeg" if extension == ".jpg" else extension}:
        shown = display_name(stem + extension, content_type)
    evidence = Evidence(
        verification=verification,
        question_code=code,
        original_name=shown,
        content_type=content_type,
        size=size,
        uploaded_by=user,
    )
    stored = secrets.token_hex(16) + extension
    evidence.file.save(stored, uploaded_file, save=False)
    try:
        evidence.save()
    except Exception:
        evidence.file.delete(save=False)  # no row, no file
        raise
    return evidence


@transaction.atomic
def evidence_remove(evidence: Evidence, *, user: User) -> None:
    """Remove one evidence file while its verification is in progress."""
    verification = Verification.objects.select_for_update().get(pk=evidence.verification_id)
    if verification.is_completed:
        raise _refuse(
            _("This verification has been completed and is locked; its evidence stays."),
            evidence.question_code,
        )
    storage, name = evidence.file.storage, evidence.file.name
    evidence.delete()
    # The file goes once the row is gone for good.
    transaction.on_commit(lambda: storage.delete(name) if name else None)
