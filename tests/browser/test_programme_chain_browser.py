"""The programme's whole chain in a real browser (Chromium), in Chinese (issue 13):

1. the firm fills in its baseline self-assessment on a phone and submits it;
2. the city official creates the retrofit project with the provider and moves it to contracted;
3. the firm fills in its acceptance self-assessment in the next round;
4. the official links it as the acceptance rating and moves the project on to delivered;
5. the assessor opens it from the work list, changes one answer with a reason and a photo as
   evidence, confirms the rest and completes the verification;
6. the official accepts the project; the firm sees the verified level and the reason, and rates
   the provider once;
7. the official requests the programme report from the programme page and reads the PDF: the
   firm's move from its baseline level to its verified acceptance level is in it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from assessments.models import Assessment, Invitation
from programmes.models import (
    AssessorScope,
    Evidence,
    Programme,
    Provider,
    ProviderRating,
    RetrofitProject,
    Verification,
)
from reports import services as report_services
from reports.models import ReportJob
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    FirmMemberFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    UserFactory,
    make_uscc,
)
from tests.reports.builders import framework_version, make_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pilot-city-2026!"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 900}
SAVED = re.compile(r"\bst-saved\b")
LEVELS = {"L1": "一级", "L2": "二级", "L3": "三级"}

# What the firm answers (labels as the Chinese questionnaire shows them): a weak baseline, a
# stronger acceptance rating after the retrofit.
BASELINE = {
    "B1": ("number", "20"),
    "B2": ("multi", ["都没有"]),
    "B3": ("choice", "否"),
    "M1": ("choice", "没有"),
    "M2": ("choice", "否"),
    "S1": ("level", 1),
    "S2": ("level", 1),
    "S3": ("level", 0),
}
ACCEPTANCE = {
    "B1": ("number", "80"),
    "B2": ("multi", ["制度", "防火墙"]),
    "B3": ("choice", "是"),
    "M1": ("choice", "已发布"),
    "M2": ("choice", "是"),
    "S1": ("level", 2),
    "S2": ("level", 3),
    "S3": ("level", 3),
}


@pytest.fixture
def city(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A pilot city with one cluster, firm F and its user, the city official, an assessor of
    the city, provider K, the programme on the test framework, and two open rounds (baseline
    and acceptance) to which F is invited. Report jobs are queued in a list; the test renders
    them as the worker would, in its own thread."""
    queued: list[int] = []
    monkeypatch.setattr(report_services, "_enqueue", queued.append)
    version, fw = framework_version()
    province = RegionFactory(code="350000", name_zh="福建省", name_en="Fujian", level="province")
    xiamen = RegionFactory(
        code="350200", name_zh="厦门市", name_en="Xiamen", level="city", parent=province
    )
    cluster = ClusterFactory(slug="xiamen-pilot", name_zh="厦门试点城市集群", region=xiamen)
    firm = FirmFactory(name="厦门精密模具有限公司", region=xiamen)
    MembershipFactory(cluster=cluster, firm=firm)
    firm_user = UserFactory(username="chen.jie", password=PASSWORD)
    FirmMemberFactory(user=firm_user, firm=firm, role="owner")
    official = UserFactory(username="lin.official", password=PASSWORD)
    OfficialScopeFactory(user=official, region=xiamen)
    assessor = UserFactory(username="wu.assessor", password=PASSWORD)
    AssessorScope.objects.create(user=assessor, region=xiamen, organisation="厦门评测中心")
    provider = Provider.objects.create(
        uscc=make_uscc(910_001), name="厦门智造服务有限公司", kind="integrator", region=xiamen
    )
    programme = Programme.objects.create(
        slug="xiamen-2026",
        name_zh="厦门市中小企业数字化转型试点",
        name_en="Xiamen SME digital transformation pilot",
        region=xiamen,
        framework_version=version,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2027, 12, 31),
        target_level="L2",
        target_firms=5,
        target_date=dt.date(2027, 6, 30),
    )
    now = timezone.now()
    baseline_round = make_round(
        cluster, version, name="2026 年诊断评测", opens=now - dt.timedelta(days=2)
    )
    acceptance_round = make_round(
        cluster, version, name="2026 年验收评测", opens=now - dt.timedelta(days=1)
    )
    for round_ in (baseline_round, acceptance_round):
        Invitation.objects.create(round=round_, firm=firm, token=f"chain-{round_.pk:0>40}")
    return {
        "firm": firm,
        "firm_user": firm_user,
        "official": official,
        "assessor": assessor,
        "provider": provider,
        "programme": programme,
        "baseline_round": baseline_round,
        "acceptance_round": acceptance_round,
        "fw": fw,
        "queued": queued,
    }


def _context(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(20_000)
    return context


def _log_in(page: Any, base: str, username: str, next_path: str = "/") -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state()


def _fits(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide on a {width} px screen"


def _save(page: Any, code: str, action: Any) -> None:
    from playwright.sync_api import expect

    with page.expect_response(lambda r: f"/answers/{code}/" in r.url):
        action()
    expect(page.locator(f"#st-{code}")).to_have_class(SAVED)


def _answer(page: Any, answers: dict[str, tuple[str, Any]]) -> None:
    """Answer the questions shown on this part of the questionnaire."""
    page.wait_for_selector("html[data-qready]", state="attached")
    for code, (kind, value) in answers.items():
        box = page.locator(f"#q-{code}")
        if box.count() == 0 or not box.is_visible():
            continue
        if kind == "number":
            _save(page, code, lambda v=value, c=code: page.locator(f"#in-{c}").fill(v))
        elif kind == "level":
            radio = f"input[name=value][value='{value}']"
            _save(page, code, lambda b=box, r=radio: b.locator(r).check())
        elif kind == "multi":
            for label in value:
                _save(page, code, lambda b=box, x=label: b.get_by_label(x, exact=True).check())
        else:
            _save(page, code, lambda b=box, x=value: b.get_by_label(x, exact=True).check())


def _self_assess(page: Any, base: str, round_name: str, answers: dict[str, Any]) -> int:
    """From the firm's home page: start the round's questionnaire, answer every part, review
    and submit; returns the submitted assessment's id."""
    from playwright.sync_api import expect

    page.goto(f"{base}/")
    page.locator("ul.rounds li", has_text=round_name).locator("button[type=submit]").click()
    page.wait_for_load_state()
    for _part in range(6):
        _answer(page, answers)
        _fits(page, PHONE["width"])
        following = page.get_by_role("link", name=re.compile("下一部分|下一页"))
        if following.count() == 0:
            break
        following.first.click()
        page.wait_for_load_state()
    pk = int(re.search(r"/assessments/(\d+)/", page.url).group(1))
    page.goto(f"{base}/assessments/{pk}/review/")
    page.locator("input[name=confirm]").check()
    page.locator("#submit-form button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/assessments/{pk}/result/"))
    expect(page.locator("h1")).to_be_visible()
    assert Assessment.objects.get(pk=pk).is_submitted
    return pk


def _move(page: Any, stage: str, note: str = "") -> None:
    page.select_option("#move select", stage)
    if note:
        page.fill("#move textarea", note)
    page.locator("#move button[type=submit]").click()
    page.wait_for_load_state()


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pages)


def test_the_programme_chain_in_chinese(
    live_server: Any, browser: Any, city: dict[str, Any], tmp_path: Path, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    firm_ctx, official_ctx, assessor_ctx = (
        _context(browser, PHONE),
        _context(browser, DESKTOP),
        _context(browser, PHONE),
    )
    errors: list[str] = []
    for ctx in (firm_ctx, official_ctx, assessor_ctx):
        ctx.on("weberror", lambda e: errors.append(str(e.error)))
    firm_page = firm_ctx.new_page()
    official = official_ctx.new_page()
    assessor = assessor_ctx.new_page()

    # 1. The baseline self-assessment, on the firm's phone.
    _log_in(firm_page, base, "chen.jie")
    baseline_pk = _self_assess(firm_page, base, "2026 年诊断评测", BASELINE)
    baseline = Assessment.objects.get(pk=baseline_pk)
    assert baseline.round_id == city["baseline_round"].pk

    # 2. The official creates the project with its baseline and provider: contracted.
    programme = city["programme"]
    _log_in(official, base, "lin.official", f"/programmes/{programme.pk}/")
    expect(official.locator("h1")).to_have_text(programme.name_zh)
    official.locator(f"a[href$='/programmes/{programme.pk}/projects/new/']").click()
    official.locator("form[role=search] input[name=q]").fill("精密模具")
    official.locator("form[role=search] button[type=submit]").click()
    official.locator("ul.found li", has_text="厦门精密模具有限公司").locator("a").click()
    official.select_option("select[name=baseline]", str(baseline_pk))
    official.select_option("select[name=provider]", str(city["provider"].pk))
    official.fill("input[name=title]", "模具车间设备联网与MES改造")
    official.locator("form.card button.primary[type=submit]").click()
    official.wait_for_url(re.compile(r"/programmes/projects/\d+/$"))
    project = RetrofitProject.objects.get()
    assert (project.firm_id, project.baseline_id, project.stage) == (
        city["firm"].pk,
        baseline_pk,
        "diagnosed",
    )
    _move(official, "contracted", "合同已签订")
    expect(official.locator("#history")).to_contain_text("合同已签订")
    project.refresh_from_db()
    assert project.stage == "contracted"

    # 3. The acceptance self-assessment, in the next round.
    acceptance_pk = _self_assess(firm_page, base, "2026 年验收评测", ACCEPTANCE)

    # 4. The official links it as the acceptance rating and moves the project to delivered.
    official.reload()
    official.select_option("select[name='acceptance-assessment']", str(acceptance_pk))
    official.locator("form", has=official.locator("input[name=role][value=acceptance]")).locator(
        "button[type=submit]"
    ).click()
    official.wait_for_load_state()
    _move(official, "in_progress")
    _move(official, "delivered", "改造完成，等待验收")
    project.refresh_from_db()
    assert (project.acceptance_id, project.stage) == (acceptance_pk, "delivered")
    official.screenshot(
        path=str(screenshots / "programme-chain-project-zh-1366.png"), full_page=True
    )

    # 5. The assessor verifies the acceptance rating on site, on a phone.
    _log_in(assessor, base, "wu.assessor", "/verification/")
    expect(assessor.locator("main")).to_contain_text("厦门精密模具有限公司")
    assessor.goto(f"{base}/verification/assessment/{acceptance_pk}/")
    _fits(assessor, PHONE["width"])
    block = assessor.locator("#vq-S3")
    block.locator("summary").click()
    block.locator("input[name=value][value='2']").check()
    block.locator("textarea[name=reason]").fill("现场查看：仓储仍用电子表格，未与系统集成")
    block.locator("button", has_text="保存修改").click()
    assessor.wait_for_selector("#vq-S3.vq-changed")
    photo = tmp_path / "仓库现场.png"
    from PIL import Image

    Image.new("RGB", (60, 40), (30, 120, 200)).save(photo)
    assessor.locator("#file-S3").set_input_files(str(photo))
    assessor.locator("#vq-S3 .vq-upload button").click()
    assessor.wait_for_selector("#vq-S3 .vevidence a")
    assessor.click("text=其余全部确认")
    assessor.wait_for_load_state()
    assessor.click("#complete")
    assessor.wait_for_selector("#vlocked")
    verification = Verification.objects.get(assessment_id=acceptance_pk)
    assert verification.is_completed
    assert Evidence.objects.get(verification=verification).content_type == "image/png"
    verified_title = LEVELS.get(verification.level, "未达到最低等级")
    assert assessor.inner_text("#verified-level") == verified_title
    # The self-report is untouched: the firm's own answer and result stay as submitted.
    acceptance = Assessment.objects.get(pk=acceptance_pk)
    assert acceptance.answers.get(question_code="S3").value == 3
    assert acceptance.is_verified
    assessor.screenshot(path=str(screenshots / "programme-chain-verified-zh-375.png"))

    # 6. Accepted; the firm sees the verified level with the reason, and rates the provider.
    official.reload()
    _move(official, "accepted", "验收通过")
    project.refresh_from_db()
    assert project.stage == "accepted" and project.accepted_at is not None
    firm_page.goto(f"{base}/assessments/{acceptance_pk}/result/")
    expect(firm_page.locator("#verified-level")).to_have_text(verified_title)
    expect(firm_page.locator("#verified-result")).to_contain_text("仓储仍用电子表格")
    _fits(firm_page, PHONE["width"])
    firm_page.locator("#verified-result").screenshot(
        path=str(screenshots / "programme-chain-firm-verified-zh-375.png")
    )
    firm_page.goto(f"{base}/programmes/projects/{project.pk}/")
    firm_page.locator("#rating input[name=score][value='4']").check()
    firm_page.fill("#rating textarea", "响应及时，改造效果明显")
    firm_page.locator("#rating button[type=submit]").click()
    expect(firm_page.locator("#rating")).to_contain_text("响应及时")
    assert ProviderRating.objects.get(project=project).score == 4
    _fits(firm_page, PHONE["width"])

    # 7. The official requests the programme report and reads the PDF.
    official.goto(f"{base}/programmes/{programme.pk}/")
    official.locator("#programme-report").get_by_role("button", name="申请转型计划报告").click()
    official.wait_for_load_state()
    job = ReportJob.objects.get(kind="programme")
    assert job.language == "zh-hans" and city["queued"] == [job.pk]
    assert report_services.report_job_run(job.pk) == "done"
    official.reload()
    with official.expect_download() as download:
        official.get_by_role("link", name="PDF").first.click()
    # Table cells wrap: compare without the line breaks pypdf turns into spaces.
    text = "".join(_pdf_text(Path(download.value.path()).read_bytes()).split())
    assert programme.name_zh in text
    assert "改造前后：等级转换矩阵" in text and "服务商评分卡" in text
    assert "厦门智造服务有限公司" in text
    assert verified_title in text
    assert not errors, errors
    for ctx in (firm_ctx, official_ctx, assessor_ctx):
        ctx.close()
