"""Demo catalog: the programme's first-year platform partners and, for
Sisnaker, 14 institutions of the four types with 152 courses, built through
the services as institutions and curators would."""

import datetime
import itertools

from django.utils import timezone

from .models import Category, Course, DeliveryMode, Institution, Platform
from .services import CourseInput, course_create, revision_decide, revision_submit

PLATFORMS = [
    ("Sisnaker", "direct"),
    ("Tokopedia", "via_platform"),
    ("Bukalapak", "via_platform"),
    ("Skill Academy by Ruangguru", "via_platform"),
    ("MauBelajarApa", "via_platform"),
    ("Pintaria", "via_platform"),
    ("Sekolah.mu", "via_platform"),
    ("Pijar Mahir", "via_platform"),
]

INSTITUTIONS = [
    ("BLK Komunitas Pesantren Al-Hikmah", "blk_komunitas", "33"),
    ("BLK Komunitas Serikat Pekerja Bekasi", "blk_komunitas", "32"),
    ("BLK Komunitas Nurul Iman", "blk_komunitas", "35"),
    ("BBPLK Bandung", "blk_pemerintah", "32"),
    ("BBPLK Semarang", "blk_pemerintah", "33"),
    ("BBPLK Medan", "blk_pemerintah", "12"),
    ("BLK Surabaya", "blk_pemerintah", "35"),
    ("BLK Luar Negeri Hong Kong Persiapan", "blk_luar_negeri", "31"),
    ("BLK Luar Negeri Taiwan Mandiri", "blk_luar_negeri", "35"),
    ("LPK Mitra Digital Nusantara", "lpk_swasta", "31"),
    ("LPK Boga Rasa", "lpk_swasta", "32"),
    ("LPK Bahasa Jepang Sakura", "lpk_swasta", "34"),
    ("LPK Teknik Otomotif Jaya", "lpk_swasta", "36"),
    ("LPK Wirausaha Muda", "lpk_swasta", "51"),
]

TOPICS = {
    Category.DIGITAL: [
        "Digital Marketing untuk UMKM",
        "Dasar Microsoft Excel",
        "Desain Grafis dengan Canva",
        "Pemrograman Web Dasar",
    ],
    Category.LANGUAGE: [
        "Bahasa Inggris untuk Pelayanan",
        "Bahasa Jepang N5",
        "Bahasa Mandarin Percakapan",
        "Bahasa Korea Dasar",
    ],
    Category.FOOD: ["Membuat Kue Kering", "Barista Pemula", "Masakan Nusantara untuk Usaha", "Pengolahan Frozen Food"],
    Category.BUSINESS: [
        "Memulai Usaha Kecil",
        "Penjualan Online di Marketplace",
        "Pembukuan Sederhana",
        "Pelayanan Pelanggan",
    ],
    Category.TRADE: ["Perawatan Sepeda Motor", "Instalasi Listrik Rumah", "Las Dasar", "Servis AC Split"],
    Category.HOSPITALITY: ["Housekeeping Hotel", "Pemandu Wisata Lokal", "Front Office Hotel"],
    Category.AGRICULTURE: ["Budidaya Ikan Lele", "Hidroponik Sayuran", "Pengolahan Kopi"],
    Category.CREATIVE: ["Fotografi Produk", "Menjahit Pakaian", "Video Konten Pendek"],
    Category.CARE: ["Perawat Lansia", "Pengasuh Anak", "Pertolongan Pertama"],
}


def load(*, staff_user, curator1, curator2) -> dict[str, int]:
    if Platform.objects.filter(name="Sisnaker").exists():
        return {"courses": Course.objects.count()}
    for name, route in PLATFORMS:
        Platform.objects.create(
            name=name,
            payout_route=route,
            contact_name=f"Tim Kemitraan {name}",
            contact_email=f"mitra@{name.lower().split()[0].replace('.', '')}.example.id",
            settlement_bank="" if route == "direct" else "ID_BNI",
            settlement_account_number="" if route == "direct" else "0123456789",
            settlement_account_holder="" if route == "direct" else f"PT {name}",
        )
    sisnaker = Platform.objects.get(name="Sisnaker")
    today = timezone.localdate()
    institutions = []
    for i, (name, kind, province) in enumerate(INSTITUTIONS):
        institution = Institution.objects.create(
            name=name,
            kind=kind,
            accreditation_number=f"LA-LPK/{2025 + i % 2}/{1000 + i}" if kind == "lpk_swasta" else "",
            accreditation_valid_until=today + datetime.timedelta(days=365) if kind == "lpk_swasta" else None,
            address=f"Jl. Pelatihan No. {i + 1}",
            province_code=province,
            bank_name="ID_MANDIRI",
            bank_account_number=f"1300{i:06d}",
            bank_account_holder=name,
        )
        institution.platforms.add(sisnaker)
        institution.staff.add(staff_user)
        institutions.append(institution)

    topics = itertools.cycle([(c, t) for c, titles in TOPICS.items() for t in titles])
    modes = itertools.cycle(
        [DeliveryMode.SELF_PACED, DeliveryMode.SELF_PACED, DeliveryMode.WEBINAR, DeliveryMode.OFFLINE]
    )
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=14)
    for n in range(152):
        institution = institutions[n % len(institutions)]
        category, title = next(topics)
        mode = next(modes)
        scheduled = mode != DeliveryMode.SELF_PACED
        data = CourseInput(
            title=f"{title}" + (f" (Angkatan {n // 38 + 1})" if n >= 38 else ""),
            summary=f"Pelatihan {title.lower()} dari {institution.name}, dari dasar sampai siap kerja.",
            description=(
                f"Pelatihan ini mengajarkan {title.lower()} langkah demi langkah, dengan latihan dan tugas. "
                "Cocok untuk pencari kerja dan pelaku usaha kecil."
            ),
            learning_outcomes=f"Peserta mampu menerapkan {title.lower()} secara mandiri.",
            category=category,
            delivery_mode=mode,
            duration_hours=8 + (n % 5) * 4,
            price=100_000 + (n % 10) * 50_000,
            starts_at=start + datetime.timedelta(days=n % 30) if scheduled else None,
            ends_at=start + datetime.timedelta(days=n % 30, hours=6) if scheduled else None,
            capacity=30 if scheduled else None,
        )
        revision = course_create(institution=institution, platform=sisnaker, data=data, by=staff_user)
        stage = n % 19  # most published; some left at each step
        if stage == 0:
            continue  # draft
        revision_submit(revision=revision, by=staff_user)
        if stage == 1:
            continue  # waiting for stage 1
        checks1 = dict.fromkeys(("remote_teachable", "outcomes_clear", "competency_based", "trainers_qualified"), True)
        if stage == 2:
            revision_decide(
                revision=revision,
                stage=1,
                approve=False,
                checklist={},
                reason="Capaian pembelajaran kurang jelas.",
                by=curator1,
            )
            continue  # rejected at stage 1, back to draft
        revision_decide(revision=revision, stage=1, approve=True, checklist=checks1, reason="", by=curator1)
        if stage == 3:
            continue  # waiting for stage 2
        checks2 = dict.fromkeys(("price_fair", "information_complete", "content_quality"), True)
        revision_decide(revision=revision, stage=2, approve=True, checklist=checks2, reason="", by=curator2)
    return {"courses": Course.objects.count()}
