"""Loads the demo: PMO staff of every role, a Dinas operator, institution
and platform staff, a few participants with valid NIKs, then each app's own
demo data (catalog.demo, enrollment.demo) through the services. Refuses to
run in production."""

import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import roles
from accounts.models import DinasOperator, Participant, User
from accounts.nik import compose_nik
from accounts.services.registration import ProfileInput, participant_register

DEMO_PASSWORD = "prakerja-demo-2026"
DOMAIN = "demo.prakerja.id"

PARTICIPANTS = [
    # email, name, region, birth date, gender, kk, phone, place
    ("siti", "SITI AMINAH", "327301", datetime.date(1996, 8, 17), "F", "3273010101960001", "081234567801", "Bandung"),
    ("budi", "BUDI SANTOSO", "327301", datetime.date(1993, 3, 5), "M", "3273010101960001", "081234567802", "Bandung"),
    ("andi", "ANDI PRATAMA", "317101", datetime.date(2000, 1, 21), "M", "3171010202000002", "081234567803", "Jakarta"),
    ("dewi", "DEWI LESTARI", "350101", datetime.date(1998, 11, 2), "F", "3501010303980003", "081234567804", "Pacitan"),
    ("rina", "RINA WULANDARI", "337201", datetime.date(1995, 6, 9), "F", "3372010404950004", "081234567805", "Solo"),
    (
        "joko",
        "JOKO SUSILO",
        "340101",
        datetime.date(1994, 2, 14),
        "M",
        "3401010505940005",
        "081234567806",
        "Yogyakarta",
    ),
    (
        "wati",
        "WATI LESTARI",
        "327301",
        datetime.date(1990, 6, 1),
        "F",
        "3273010606900007",
        "081234567807",
        "Bandung",
    ),
]


PARTICIPANT_NOTES = {
    "siti": "participant with a card and a voucher (/peserta/kartu/)",
    "andi": "participant with a card and a course in progress",
    "budi": "participant, identity verified: can apply to wave 2 (/peserta/gelombang/)",
    "dewi": "participant, registered: phone and identity checks to do",
    "rina": "participant who completed and reviewed a course: incentives (/peserta/insentif/)",
    "joko": "participant with a card who buys on Sisnaker's own site, through the partner API (scripts/demo.sh)",
    "wati": "participant with a card a wage extract found above the limit: money held, a case (/peserta/kasus/)",
}


class Command(BaseCommand):
    help = "Creates demo logins (password %s) and demo participants." % DEMO_PASSWORD

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("demo_data refuses to run in production.")
        with transaction.atomic():
            logins = self._create()
        # Waves, cards and purchases: after the commit above, because cards
        # are issued by a task queued on commit.
        from enrollment import demo as enrollment_demo

        by_email = {p.user.email: p for p in Participant.objects.select_related("user")}
        enrollment_demo.load(
            selected=[
                by_email[f"siti@{DOMAIN}"],
                by_email[f"andi@{DOMAIN}"],
                by_email[f"rina@{DOMAIN}"],
                by_email[f"joko@{DOMAIN}"],
                by_email[f"wati@{DOMAIN}"],
            ],
            applicant=by_email[f"budi@{DOMAIN}"],
            maker=User.objects.get(email=f"pmo-finance-maker@{DOMAIN}"),
            checker=User.objects.get(email=f"pmo-finance-checker@{DOMAIN}"),
            reviewer=User.objects.get(email=f"pmo-kyc-reviewer@{DOMAIN}"),
            staff=User.objects.get(email=f"lembaga@{DOMAIN}"),
        )
        self._wage_extract(by_email[f"wati@{DOMAIN}"], User.objects.get(email=f"pmo-kyc-reviewer@{DOMAIN}"))
        self.stdout.write(self.style.SUCCESS("Demo logins (password: %s):" % DEMO_PASSWORD))
        for email, what in logins:
            self.stdout.write(f"  {email:<40} {what}")
        self.stdout.write(
            "Staff (admin@, pmo-*@, curator-*@) set up two-step verification on their first visit to /admin/: "
            "scan the QR code with an authenticator app, or print its code with "
            "`.venv/bin/python manage.py totp_code --secret <the secret under the QR code>`."
        )

    def _wage_extract(self, earner: Participant, officer: User) -> None:
        """The social-security agency's extract arrives after the cards: it
        names one card holder above the wave's limit, whose money is then
        held in a case for the PMO (admin, Integrity cases)."""
        import io

        from integrity.models import ScreeningList
        from integrity.services.lists import screening_list_upload

        if ScreeningList.objects.exists():
            return
        rows = f"nik,monthly_wage,employer,month\n{earner.nik},6250000,PT Sinar Jaya Abadi,2026-10\n"
        screening_list_upload(
            kind=ScreeningList.Kind.WAGE,
            source="BPJS Ketenagakerjaan, ekstrak demo",
            csv_file=io.BytesIO(rows.encode()),
            imported_by=officer,
        )

    def _user(self, local: str, *, staff=False, superuser=False, group=None, name="") -> User:
        email = f"{local}@{DOMAIN}"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, is_staff=staff, is_superuser=superuser, name=name
            )
        EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    def _create(self):
        logins = []
        self._user("admin", staff=True, superuser=True, name="Admin PMO")
        logins.append((f"admin@{DOMAIN}", "superuser (Django admin)"))
        for role in roles.STAFF_ROLES:
            local = role.replace("_", "-")
            self._user(local, staff=True, group=role, name=role)
            logins.append((f"{local}@{DOMAIN}", f"{role} (Django admin)"))

        operator = self._user("dinas-jabar", group=roles.DINAS_OPERATOR, name="Operator Disnaker Jabar")
        DinasOperator.objects.get_or_create(
            user=operator, defaults={"province_code": "32", "office_name": "Disnakertrans Provinsi Jawa Barat"}
        )
        logins.append((f"dinas-jabar@{DOMAIN}", "Dinas operator, Jawa Barat (/dinas/)"))

        for serial, (local, name, region, born, gender, kk, phone, place) in enumerate(PARTICIPANTS, start=1):
            user = self._user(local)
            logins.append((user.email, PARTICIPANT_NOTES.get(local, "participant")))
            if Participant.objects.filter(user=user).exists():
                continue
            participant_register(
                user=user,
                profile=ProfileInput(
                    full_name=name,
                    nik=compose_nik(region=region, birth_date=born, gender=gender, serial=serial),
                    kk_number=kk,
                    birth_place=place,
                    birth_date=born,
                    gender=gender,
                    phone=phone,
                    address=f"Jl. Contoh No. {serial}, {place}",
                    education="sma",
                    employment_status="unemployed",
                ),
            )
        newcomer = self._user("baru")
        logins.append((newcomer.email, "signed up, profile not filled yet"))

        from catalog import demo as catalog_demo

        staff = self._user("lembaga", group=roles.INSTITUTION_STAFF, name="Staf Lembaga")
        logins.append(
            (
                staff.email,
                "institution staff of the 14 demo institutions "
                "(/lembaga/, /lembaga/peserta/, /lembaga/pembayaran/, /lembaga/afiliasi/)",
            )
        )
        catalog_demo.load(
            staff_user=staff,
            curator1=User.objects.get(email=f"curator-binalattas@{DOMAIN}"),
            curator2=User.objects.get(email=f"pmo-curator@{DOMAIN}"),
        )
        from catalog.models import Platform

        platform_staff = self._user("mitra", group=roles.PLATFORM_STAFF, name="Staf Sisnaker")
        Platform.objects.get(name="Sisnaker").staff.add(platform_staff)
        logins.append(
            (platform_staff.email, "platform staff of Sisnaker (/mitra/pesanan/, /mitra/pembayaran/, /mitra/afiliasi/)")
        )
        return logins
