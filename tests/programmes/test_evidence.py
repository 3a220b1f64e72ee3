"""Evidence uploads (issue 13): type judged by content, size and count caps, sanitised names,
private storage and scoped downloads."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from programmes import evidence, services
from programmes.models import Evidence, Verification
from programmes.services import ProgrammeRuleError
from tests.programmes.verification_builders import (
    World,
    build_world,
    pdf_bytes,
    png_bytes,
    png_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def started(world: World) -> Verification:
    return services.verification_start(world.assessment, user=world.assessor)


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


class _Unreadable(io.BytesIO):
    """A file that must not be read: an upload declared larger than the cap."""

    def __init__(self) -> None:
        super().__init__(b"\x89PNG\r\n\x1a\n")
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_png_is_stored_with_a_random_name_in_private_media(
    world: World, started: Verification, settings: Any
) -> None:
    item = evidence.evidence_add(started, "B3", png_file("现场照片.png"), world.assessor)
    assert item.content_type == "image/png"
    assert item.original_name == "现场照片.png"
    stored = Path(item.file.name)
    assert stored.parts[:2] == ("evidence", str(started.pk))
    assert stored.suffix == ".png" and "现场" not in stored.name and len(stored.stem) == 32
    assert (Path(settings.MEDIA_ROOT) / item.file.name).read_bytes() == png_bytes()
    assert item.size == len(png_bytes())


def test_a_png_that_is_really_html_is_refused(world: World, started: Verification) -> None:
    fake = SimpleUploadedFile(
        "photo.png", b"<html><script>alert(1)</script></html>", content_type="image/png"
    )
    with pytest.raises(ProgrammeRuleError) as refused:
        evidence.evidence_add(started, "B3", fake, world.assessor)
    assert "photo.png" in refused.value.message and "PDF" in refused.value.message
    assert not Evidence.objects.exists()


def test_a_png_header_on_garbage_is_refused_by_pillow(world: World, started: Verification) -> None:
    fake = SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    with pytest.raises(ProgrammeRuleError, match="x.png"):
        evidence.evidence_add(started, "B3", fake, world.assessor)
    assert not Evidence.objects.exists()


def test_a_pdf_named_jpg_is_stored_as_pdf(world: World, started: Verification) -> None:
    upload = SimpleUploadedFile("scan.jpg", pdf_bytes(), content_type="image/jpeg")
    item = evidence.evidence_add(started, "B3", upload, world.assessor)
    assert item.content_type == "application/pdf"
    assert item.file.name.endswith(".pdf")
    assert item.original_name == "scan.pdf"


@pytest.mark.parametrize("kind", ["JPEG", "WEBP"])
def test_jpeg_and_webp_are_accepted(world: World, started: Verification, kind: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (5, 5), (1, 2, 3)).save(buffer, format=kind)
    item = evidence.evidence_add(
        started, "B3", SimpleUploadedFile("a.bin", buffer.getvalue()), world.assessor
    )
    assert item.content_type == {"JPEG": "image/jpeg", "WEBP": "image/webp"}[kind]


def test_an_oversized_file_is_refused_before_it_is_read(
    world: World, started: Verification, settings: Any
) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024
    handle = _Unreadable()
    upload = UploadedFile(handle, name="big.png", content_type="image/png", size=5 * 1024 * 1024)
    with pytest.raises(ProgrammeRuleError) as refused:
        evidence.evidence_add(started, "B3", upload, world.assessor)
    assert handle.bytes_read == 0
    assert "big.png" in refused.value.message and "1.0" in refused.value.message
    assert not Evidence.objects.exists()


def test_an_oversized_upload_is_refused_by_the_view_before_the_body_is_parsed(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.EVIDENCE_MAX_BYTES = 2048
    from django.http.multipartparser import MultiPartParser

    def _never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(MultiPartParser, "parse", _never)
    big = SimpleUploadedFile("巨大.png", png_bytes() + b"\0" * 200_000)
    url = reverse("verification:evidence_add", args=[world.assessment.pk, "B3"])
    got = _client(world.assessor).post(url, {"file": big})
    assert got.status_code == 400
    assert "巨大.png" in got.content.decode() and "2.0" in got.content.decode()
    assert not Evidence.objects.exists()


def test_empty_file_is_refused(world: World, started: Verification) -> None:
    with pytest.raises(ProgrammeRuleError, match="empty"):
        evidence.evidence_add(started, "B3", SimpleUploadedFile("e.png", b""), world.assessor)


def test_caps_per_question_and_per_verification(
    world: World, started: Verification, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _n in range(evidence.PER_QUESTION):
        evidence.evidence_add(started, "B3", png_file(), world.assessor)
    with pytest.raises(ProgrammeRuleError, match=str(evidence.PER_QUESTION)):
        evidence.evidence_add(started, "B3", png_file("eleventh.png"), world.assessor)
    monkeypatch.setattr(evidence, "PER_VERIFICATION", evidence.PER_QUESTION)
    with pytest.raises(ProgrammeRuleError, match="verification may have at most"):
        evidence.evidence_add(started, "M2", png_file(), world.assessor)
    assert Evidence.objects.count() == evidence.PER_QUESTION


def test_unknown_question_is_refused(world: World, started: Verification) -> None:
    with pytest.raises(ProgrammeRuleError, match="ZZ9"):
        evidence.evidence_add(started, "ZZ9", png_file(), world.assessor)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\照片 一.png", "照片_一.png"),
        ("/abs/path/a b.png", "a_b.png"),
        ("..", "evidence.png"),
        ("evil\x00name\n.png", "evilname.png"),
        ('quote"<x>.png', "quotex.png"),
    ],
)
def test_names_are_sanitised(raw: str, shown: str) -> None:
    with translation.override("en"):
        assert evidence.display_name(raw, "image/png") == shown


def test_long_names_are_capped_keeping_the_extension() -> None:
    name = evidence.display_name("长" * 300 + ".png")
    assert len(name) == evidence.NAME_MAX and name.endswith(".png")


def test_path_traversal_in_the_name_cannot_leave_the_evidence_folder(
    world: World, started: Verification, settings: Any
) -> None:
    item = evidence.evidence_add(started, "B3", png_file("../../../../tmp/x.png"), world.assessor)
    path = (Path(settings.MEDIA_ROOT) / item.file.name).resolve()
    assert path.is_relative_to((Path(settings.MEDIA_ROOT) / "evidence").resolve())
    assert item.original_name == "x.png"


def test_remove_while_in_progress_only(
    world: World, started: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    item = evidence.evidence_add(started, "B3", png_file(), world.assessor)
    kept = evidence.evidence_add(started, "B3", png_file(), world.assessor)
    path = Path(item.file.path)
    url = reverse("verification:evidence_remove", args=[item.pk])
    assert _client(world.outside_assessor).post(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert _client(world.assessor).post(url).status_code == 302
    assert not Evidence.objects.filter(pk=item.pk).exists() and not path.exists()
    services.verification_confirm_rest(started, user=world.assessor)
    services.verification_complete(started, user=world.assessor)
    with pytest.raises(ProgrammeRuleError, match="locked"):
        evidence.evidence_remove(kept, user=world.assessor)
    got = _client(world.assessor).post(reverse("verification:evidence_remove", args=[kept.pk]))
    assert got.status_code == 400 and Evidence.objects.filter(pk=kept.pk).exists()


def test_upload_through_the_page_without_js_and_with_htmx(world: World) -> None:
    url = reverse("verification:evidence_add", args=[world.assessment.pk, "B3"])
    client = _client(world.assessor)
    got = client.post(url, {"file": png_file("a.png")})
    assert got.status_code == 302 and got["Location"].endswith("#vq-B3")
    got = client.post(url, {"file": png_file("b.png")}, HTTP_HX_REQUEST="true")
    assert got.status_code == 200 and "b.png" in got.content.decode()
    refused = client.post(
        url, {"file": SimpleUploadedFile("c.png", b"<svg/>")}, HTTP_HX_REQUEST="true"
    )
    assert "c.png" in refused.content.decode() and "vq-error" in refused.content.decode()
    assert Evidence.objects.count() == 2


def test_download_is_an_attachment_with_its_type_and_nosniff(
    world: World, started: Verification
) -> None:
    item = evidence.evidence_add(started, "B3", png_file("照片.png"), world.assessor)
    got = _client(world.assessor).get(reverse("verification:evidence", args=[item.pk]))
    assert got.status_code == 200
    assert got["Content-Type"] == "image/png"
    assert got["Content-Disposition"].startswith("attachment;")
    assert got["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got["Content-Security-Policy"]
    assert b"".join(got.streaming_content) == png_bytes()


def _masked(body: bytes, path: str) -> str:
    text = body.decode().replace(path, "<PATH>")
    return re.sub(r"[A-Za-z0-9]{64}", "<TOKEN>", text)


def test_downloads_are_scoped(world: World, started: Verification) -> None:
    item = evidence.evidence_add(started, "B3", png_file(), world.assessor)
    url = reverse("verification:evidence", args=[item.pk])
    missing = reverse("verification:evidence", args=[999_999])
    # In progress: the assessor only; everyone else gets what a missing file gets.
    for user in (world.firm_user, world.official, world.outside_assessor, world.other_firm_user):
        got, twin = _client(user).get(url), _client(user).get(missing)
        assert got.status_code == twin.status_code == 404
        assert _masked(got.content, url) == _masked(twin.content, missing)
    services.verification_confirm_rest(started, user=world.assessor)
    services.verification_complete(started, user=world.assessor)
    assert _client(world.firm_user).get(url).status_code == 200
    assert _client(world.official).get(url).status_code == 200
    # Another firm's evidence answers like a missing one.
    got, twin = _client(world.other_firm_user).get(url), _client(world.other_firm_user).get(missing)
    assert got.status_code == twin.status_code == 404
    assert _masked(got.content, url) == _masked(twin.content, missing)


def test_media_url_does_not_serve_evidence(world: World, started: Verification) -> None:
    from django.conf import settings as live

    item = evidence.evidence_add(started, "B3", png_file(), world.assessor)
    got = _client(world.assessor).get(live.MEDIA_URL + item.file.name)
    assert got.status_code == 404
