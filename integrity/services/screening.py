"""Whether participants are in the programme's target group as the lists
say now: the PMO's exclusion lists, the wage extracts (a wave's highest
monthly wage) and the education registry (active pupils). One bulk check,
used at applying, at the draw, at every movement of money and by the
re-screen after an import.

A finding is keyed by what it rests on (the participant and the list), so
finding it again is the same case, and a case an officer cleared does not
come back until a new list says otherwise."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from accounts.models import ExclusionEntry, ExclusionList

from ..models import Case, ScreeningList, ScreeningRecord

_CHUNK = 20000


@dataclass(frozen=True)
class Rules:
    """What a wave asks beyond the exclusion lists."""

    max_monthly_wage: int = 0
    refuse_wage: bool = True
    pupils_ineligible: bool = True

    @classmethod
    def of(cls, wave) -> "Rules":
        return cls(
            max_monthly_wage=wave.max_monthly_wage,
            refuse_wage=wave.wage_rule == wave.WageRule.REFUSE,
            pupils_ineligible=wave.pupils_ineligible,
        )


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str
    refuses: bool  # False: a case for review that refuses and holds nothing
    evidence: dict = field(default_factory=dict, hash=False, compare=False)


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _exclusions(indexes: list[str]) -> dict[str, tuple]:
    found = {}
    for chunk in _chunks(indexes):
        rows = ExclusionEntry.objects.filter(
            nik_index__any=chunk,
            exclusion_list__is_active=True,
            exclusion_list__status=ExclusionList.Status.READY,
        ).values_list("nik_index", "exclusion_list_id", "exclusion_list__kind", "exclusion_list__source")
        for index, list_id, kind, source in rows.order_by("exclusion_list_id"):
            found.setdefault(index, (list_id, kind, source))
    return found


def _latest(indexes: list[str]) -> dict[str, dict[str, dict]]:
    """Each NIK's latest record of each kind in the active, imported lists
    (the latest month for wages, then the latest list), by kind: one query
    per chunk for both kinds."""
    latest: dict[str, dict[str, dict]] = {kind: {} for kind in ScreeningList.Kind.values}
    for chunk in _chunks(indexes):
        rows = ScreeningRecord.objects.filter(
            kind__in=ScreeningList.Kind.values,  # the (kind, nik_index) index
            nik_index__any=chunk,
            screening_list__is_active=True,
            screening_list__status=ScreeningList.Status.READY,
        ).values(
            "kind",
            "nik_index",
            "screening_list_id",
            "screening_list__source",
            "monthly_wage",
            "month",
            "organisation",
            "pupil_status",
            "active_pupil",
        )
        for row in rows:
            of_kind = latest[row["kind"]]
            rank = (row["month"] or date.min, row["screening_list_id"])
            current = of_kind.get(row["nik_index"])
            if current is None or rank > current["rank"]:
                of_kind[row["nik_index"]] = {**row, "rank": rank}
    return latest


def screen(people: Iterable[tuple[int, str, Rules]]) -> dict[int, list[Finding]]:
    """``people``: (participant id, NIK blind index, the rules of their wave).
    Returns the findings of those outside the target group, by participant."""
    people = list(people)
    indexes = sorted({index for _pid, index, _rules in people})
    excluded = _exclusions(indexes)
    latest = _latest(indexes)
    wages, schools = latest[ScreeningList.Kind.WAGE], latest[ScreeningList.Kind.EDUCATION]
    found: dict[int, list[Finding]] = {}
    for pid, index, rules in people:
        findings = []
        if index in excluded:
            list_id, kind, source = excluded[index]
            findings.append(
                Finding(
                    Case.Kind.EXCLUSION,
                    f"exclusion:{pid}:{list_id}",
                    True,
                    {"list_id": list_id, "list_kind": kind, "source": source},
                )
            )
        wage = wages.get(index)
        if wage and rules.max_monthly_wage and (wage["monthly_wage"] or 0) > rules.max_monthly_wage:
            findings.append(
                Finding(
                    Case.Kind.WAGE,
                    f"wage:{pid}:{wage['screening_list_id']}",
                    rules.refuse_wage,
                    {
                        "list_id": wage["screening_list_id"],
                        "source": wage["screening_list__source"],
                        "monthly_wage": wage["monthly_wage"],
                        "month": wage["month"].strftime("%Y-%m") if wage["month"] else "",
                        "employer": wage["organisation"],
                        "limit": rules.max_monthly_wage,
                    },
                )
            )
        school = schools.get(index)
        if school and rules.pupils_ineligible and school["active_pupil"]:
            findings.append(
                Finding(
                    Case.Kind.PUPIL,
                    f"pupil:{pid}:{school['screening_list_id']}",
                    True,
                    {
                        "list_id": school["screening_list_id"],
                        "source": school["screening_list__source"],
                        "school": school["organisation"],
                        "status": school["pupil_status"],
                    },
                )
            )
        if findings:
            found[pid] = findings
    return found


def screen_one(participant, wave) -> list[Finding]:
    return screen([(participant.pk, participant.nik_index, Rules.of(wave))]).get(participant.pk, [])
