"""A case's evidence in words, for the officer and the participant."""

from django.utils.translation import gettext as _

from accounts.models import ExclusionList

from .models import Case


def rupiah(amount) -> str:
    return "Rp " + f"{int(amount or 0):,}".replace(",", ".")


def describe(case: Case) -> str:
    evidence = case.evidence or {}
    if case.kind == Case.Kind.WAGE:
        return _(
            "Monthly wage %(wage)s in %(month)s at %(employer)s, above the wave's limit of %(limit)s (%(source)s)."
        ) % {
            "wage": rupiah(evidence.get("monthly_wage")),
            "month": evidence.get("month") or "-",
            "employer": evidence.get("employer") or "-",
            "limit": rupiah(evidence.get("limit")),
            "source": evidence.get("source", ""),
        }
    if case.kind == Case.Kind.PUPIL:
        return _("Listed as an active pupil (%(status)s) at %(school)s (%(source)s).") % {
            "status": evidence.get("status", ""),
            "school": evidence.get("school") or "-",
            "source": evidence.get("source", ""),
        }
    if case.kind == Case.Kind.COMPLETION:
        rule = evidence.get("rule")
        if rule == "too_fast":
            return _(
                "%(count)s completions sooner than the course's length (fastest %(minutes)s minutes for a "
                "%(hours)s-hour course); enrolments %(examples)s."
            ) % {
                "count": evidence.get("count"),
                "minutes": evidence.get("fastest_minutes"),
                "hours": evidence.get("course_hours"),
                "examples": ", ".join(str(pk) for pk in evidence.get("enrollments", [])),
            }
        groups = "; ".join(f"{g.get('minute') or g.get('certificate')}: {g['n']}" for g in evidence.get("groups", []))
        if rule == "same_minute":
            return _("%(count)s completions reported in the same minute (%(groups)s).") % {
                "count": evidence.get("count"),
                "groups": groups,
            }
        return _("%(count)s participants' certificates are the same file (SHA-256 %(groups)s).") % {
            "count": evidence.get("count"),
            "groups": groups,
        }
    if case.kind == Case.Kind.LINKED:
        from .graph import kind_label

        shared = "; ".join(
            f"{kind_label(link['kind'])} ({link['label']}): {link.get('member_count', len(link['members']))}"
            for link in evidence.get("links", [])
        )
        return _("Risk score %(score)s: %(count)s participants linked by %(shared)s.") % {
            "score": evidence.get("score", 0),
            "count": evidence.get("member_count", len(evidence.get("members", []))),
            "shared": shared,
        }
    if case.kind == Case.Kind.NAME_MISMATCH:
        if evidence.get("failure_code"):
            return _("The bank could not be asked whose %(channel)s account ending %(last)s is (%(code)s).") % {
                "channel": evidence.get("channel", ""),
                "last": evidence.get("account_last4", ""),
                "code": evidence.get("failure_code"),
            }
        return _(
            "%(channel)s holds the account ending %(last)s in the name %(holder)s, not the participant's KTP name "
            "(gateway: %(matching)s). Clearing confirms the account; keeping it blocked refuses it."
        ) % {
            "channel": evidence.get("channel", ""),
            "last": evidence.get("account_last4", ""),
            "holder": evidence.get("bank_holder_name") or "-",
            "matching": evidence.get("name_matching") or "-",
        }
    if case.kind == Case.Kind.CONFLICT:
        return _(
            "%(platform)s sells %(course)s of an institution it is affiliated with (shared: %(shared)s); "
            "%(sales)s sales worth %(total)s, commission %(commission)s. The listing is suspended."
        ) % {
            "platform": evidence.get("platform", ""),
            "course": evidence.get("course", ""),
            "shared": ", ".join(evidence.get("shared", [])),
            "sales": evidence.get("sales", 0),
            "total": rupiah(evidence.get("sales_total")),
            "commission": rupiah(evidence.get("commission")),
        }
    if case.kind == Case.Kind.EXCLUSION:
        kinds = dict(ExclusionList.Kind.choices)
        return _("Named by the exclusion list %(kind)s (%(source)s).") % {
            "kind": kinds.get(evidence.get("list_kind"), evidence.get("list_kind", "")),
            "source": evidence.get("source", ""),
        }
    return ""


def participant_text(case: Case) -> str:
    """What the participant reads: the finding in plain words, nothing
    about the list beyond what it says of them."""
    if case.kind == Case.Kind.WAGE:
        return _(
            "The social-security agency (BPJS Ketenagakerjaan) reports a monthly wage of %(wage)s for you in "
            "%(month)s, above the limit of your wave."
        ) % {"wage": rupiah(case.evidence.get("monthly_wage")), "month": case.evidence.get("month") or "-"}
    if case.kind == Case.Kind.PUPIL:
        return _("The education registry lists you as an active pupil.")
    if case.kind == Case.Kind.LINKED:
        return _(
            "Your account shares a mobile number, a device, an incentive account or a face with other participants' "
            "accounts. Each person registers and buys for themself only."
        )
    if case.kind == Case.Kind.NAME_MISMATCH:
        return _("Your bank holds the account ending %(last)s for incentives in another name than your KTP name.") % {
            "last": case.evidence.get("account_last4", "")
        }
    return _("Your NIK is on one of the programme's exclusion lists.")
