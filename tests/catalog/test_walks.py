"""A course from an institution's phone to the catalog, in Chromium: the
institution's staff write and submit it on their pages at 360 px, the
Binalattas curator and the PMO curator decide it in admin by ticking the
criteria and pressing the buttons, a stale second tab gets a message, and
the course is then on sale. Every page is watched for server errors, bare
403s, console errors and (on the phone) sideways scrolling."""

import pytest
from playwright.sync_api import expect

from catalog.models import Course, CourseRevision
from tests.browser import _open_page, _path_is, _url, log_in_as, watch
from tests.catalog.test_catalog import world  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def _curate(browser, live_server, curator, queue: str, revision: CourseRevision):
    context, page = _open_page(browser)
    w = watch(page)
    log_in_as(page, live_server, curator.email)
    page.wait_for_url(_path_is("/admin/"))
    page.click(f"a[href='/admin/catalog/{queue}/']")
    page.click(f"a[href='/admin/catalog/{queue}/{revision.pk}/change/']")
    # A second tab on the same case, as a curator who opened it twice.
    stale = context.new_page()
    stale_watch = watch(stale)
    stale.goto(page.url)
    for box in page.locator("form[action$='/decide/'] input[type=checkbox]").all():
        box.check()
    page.fill("form[action$='/decide/'] textarea[name=reason]", "Memenuhi semua kriteria kurasi.")
    page.get_by_role("button", name="Setujui", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("Keputusan dicatat")
    # The stale tab's decision is refused with a message, on the queue page.
    for box in stale.locator("form[action$='/decide/'] input[type=checkbox]").all():
        box.check()
    stale.fill("form[action$='/decide/'] textarea[name=reason]", "Disetujui lagi dari tab lama.")
    stale.get_by_role("button", name="Setujui", exact=True).click()
    expect(stale.locator(".messagelist .error")).to_be_visible()
    expect(stale.locator(".messagelist")).not_to_contain_text("dihapus")
    w.check()
    stale_watch.check()
    context.close()


def test_a_course_goes_from_the_institutions_phone_through_both_curators_to_the_catalog(
    browser,
    live_server,
    world,  # noqa: F811
):
    _institution, staff = world["institution"]("LPK Las Mandiri")
    context, page = _open_page(browser, **PHONE)
    w = watch(page)
    log_in_as(page, live_server, staff.email)
    page.wait_for_url(_path_is("/lembaga/"))
    w.fits()
    page.click("a[href='/lembaga/kursus/baru/']")
    page.select_option("#id_platform", label="Sisnaker")
    page.fill("#id_title", "Pengelasan Dasar SMAW")
    page.fill("#id_summary", "Dasar pengelasan listrik untuk pemula.")
    page.fill("#id_description", "Keselamatan kerja, mesin las, posisi pengelasan, praktik sambungan.")
    page.fill("#id_learning_outcomes", "Peserta mampu membuat sambungan las posisi datar.")
    page.select_option("#id_category", index=1)
    page.select_option("#id_delivery_mode", "self_paced")
    page.fill("#id_duration_hours", "16")
    page.fill("#id_price", "450000")
    w.fits()
    page.get_by_role("button", name="Simpan draf").click()
    expect(page.locator(".msg.success")).to_be_visible()
    revision = CourseRevision.objects.get(title="Pengelasan Dasar SMAW")
    assert revision.status == "draft"
    page.get_by_role("button", name="Ajukan untuk kurasi").click()
    expect(page.locator(".msg.success")).to_be_visible()
    assert CourseRevision.objects.get(pk=revision.pk).status == "submitted"
    w.fits()
    w.check()
    context.close()

    _curate(browser, live_server, world["curator1"], "stage1queue", revision)
    assert CourseRevision.objects.get(pk=revision.pk).status == "stage1_approved"
    _curate(browser, live_server, world["curator2"], "stage2queue", revision)
    assert CourseRevision.objects.get(pk=revision.pk).status == "published"

    # On sale: anyone finds it in the catalog and opens it.
    context, page = _open_page(browser, **PHONE)
    w = watch(page)
    page.goto(_url(live_server, "/kursus/?q=Pengelasan"))
    course = Course.objects.get(pk=revision.course_id)
    page.click(f"a[href='/kursus/{course.pk}/']")
    expect(page.locator("h1")).to_contain_text("Pengelasan Dasar SMAW")
    w.fits()
    w.check()
    context.close()


def test_a_bank_account_and_staff_changed_in_admin_show_in_the_institutions_history(
    browser,
    live_server,
    world,  # noqa: F811
):
    """A finance maker requests the new account, another finance officer
    approves it, an administrator adds a staff member: each in admin's
    pages, each in the institution's history."""
    from accounts import roles
    from tests.factories import UserFactory, make_staff

    institution, _staff = world["institution"]("LPK Bengkel Maju")
    newcomer = UserFactory(email="staf.baru@example.com")
    admin_user = UserFactory(email="admin.pmo@example.com", is_staff=True, is_superuser=True)
    maker, checker = make_staff(roles.PMO_FINANCE_MAKER), make_staff(roles.PMO_FINANCE_CHECKER)
    institution_page = f"/admin/catalog/institution/{institution.pk}/change/"

    context, page = _open_page(browser)
    w = watch(page)
    log_in_as(page, live_server, maker.email)
    page.goto(_url(live_server, institution_page))
    expect(page.locator("#id_bank_account_number")).to_have_count(0)  # read only, even to finance
    page.get_by_role("link", name="Minta perubahan rekening bank").click()
    page.fill("#id_bank_account_number", "9876 5432 10")
    page.fill("#id_note", "Surat lembaga tanggal 2 Desember: pindah ke rekening baru")
    page.click("#payee-change-form input[type=submit]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator("#change-decision")).to_contain_text("pemeriksa keuangan PMO lain")
    institution.refresh_from_db()
    assert institution.bank_account_number == "123", "nothing changes before the approval"
    page.goto(_url(live_server, institution_page))
    expect(page.locator(".field-payee_change")).to_contain_text("menunggu persetujuan")
    context.close()

    context, page = _open_page(browser)
    w2 = watch(page)
    log_in_as(page, live_server, checker.email)
    page.goto(_url(live_server, "/admin/catalog/payeechange/"))
    page.locator("#result_list tbody th a").first.click()
    expect(page.locator(".field-comparison")).to_contain_text("9876543210")
    page.click("button[value=approve]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    institution.refresh_from_db()
    assert institution.bank_account_number == "9876543210"
    context.close()

    context, page = _open_page(browser)
    w3 = watch(page)
    log_in_as(page, live_server, admin_user.email)
    page.goto(_url(live_server, institution_page))
    page.select_option("#id_staff_from", label=str(newcomer))
    page.click("#id_staff_add")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    history = page.locator(".inline-group", has_text="Riwayat")
    expect(history).to_contain_text("bank_account_number: 123 → 9876543210")
    expect(history).to_contain_text("+ staf.baru@example.com")
    assert institution.staff.filter(pk=newcomer.pk).exists()
    w2.check()
    w3.check()
    w.check()
    context.close()
