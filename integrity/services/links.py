"""Links between participants that should not exist (KPK: jockeys, *joki*,
registering and buying for others): one mobile number, one browser, one
incentive bank or e-wallet account or one face shared by several
participants; one Dinas operator's registrants sharing their details; many
identity checks from one browser.

Each kind of link is found set-based (one grouped query each); linked
participants are joined into groups, each group scored, and a group at or
above ``INTEGRITY_LINK_CASE_SCORE`` opens a case for each member with the
whole group as evidence (drawn as a graph on the case). At
``INTEGRITY_LINK_HOLD_SCORE`` the cases hold the members' money until an
officer decides each one (the real person is cleared, the others revoked).
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import Lower, Trim

from accounts.models import Participant
from accounts.phone import mask_phone

from ..models import Case, DeviceSighting
from .cases import money_at_stake

# Points per extra participant a link of this kind joins; the score is capped at 100.
WEIGHTS = {"face": 40, "account": 35, "phone": 25, "operator": 15, "device": 15}
KYC_DEVICE_BONUS = 20  # a browser that ran identity checks for several participants
MANY_KYC = 3


@dataclass
class Link:
    kind: str  # face, account, phone, operator, device
    label: str  # what is shared, masked
    members: set[int]
    kyc_checks: int = 0  # for a device: identity checks sent from it


@dataclass
class Group:
    members: set[int] = field(default_factory=set)
    links: list[Link] = field(default_factory=list)

    @property
    def key(self) -> str:
        return hashlib.sha256(",".join(map(str, sorted(self.members))).encode()).hexdigest()[:16]

    @property
    def score(self) -> int:
        points = 0
        for link in self.links:
            points += WEIGHTS[link.kind] * (len(link.members) - 1)
            if link.kind == "device" and link.kyc_checks and len(link.members) >= MANY_KYC:
                points += KYC_DEVICE_BONUS
        return min(points, 100)


def _phones() -> list[Link]:
    shared = Participant.objects.values("phone").annotate(n=Count("pk")).filter(n__gt=1).values("phone")
    by_phone = defaultdict(set)
    for pk, phone in Participant.objects.filter(phone__in=shared).values_list("pk", "phone"):
        by_phone[phone].add(pk)
    return [Link("phone", mask_phone(phone), members) for phone, members in by_phone.items()]


def _devices() -> list[Link]:
    shared = (
        DeviceSighting.objects.values("device_key")
        .annotate(n=Count("participant", distinct=True))
        .filter(n__gt=1)
        .values("device_key")
    )
    members, checks = defaultdict(set), defaultdict(int)
    for key, pk, what, count in DeviceSighting.objects.filter(device_key__in=shared).values_list(
        "device_key", "participant_id", "what", "count"
    ):
        members[key].add(pk)
        if what == DeviceSighting.What.KYC:
            checks[key] += count
    return [Link("device", f"device {key[:6]}", pks, kyc_checks=checks[key]) for key, pks in members.items()]


def _accounts() -> list[Link]:
    from payments.channels import PayoutChannel
    from payouts.models import IncentiveAccount

    shared = (
        IncentiveAccount.objects.values("channel_code", "account_number")
        .annotate(n=Count("participant", distinct=True))
        .filter(n__gt=1)
    )
    wanted = Q(pk__in=[])
    for row in shared:
        wanted |= Q(channel_code=row["channel_code"], account_number=row["account_number"])
    by_account = defaultdict(set)
    for channel, number, pk in IncentiveAccount.objects.filter(wanted).values_list(
        "channel_code", "account_number", "participant_id"
    ):
        by_account[(channel, number)].add(pk)
    labels = dict(PayoutChannel.choices)
    return [
        Link("account", f"{labels.get(channel, channel)} …{number[-4:]}", members)
        for (channel, number), members in by_account.items()
    ]


def _faces() -> list[Link]:
    from kyc.models import KycSubmission

    pairs = defaultdict(set)
    for pk, other in KycSubmission.objects.filter(duplicate_of__isnull=False).values_list(
        "participant_id", "duplicate_of_id"
    ):
        if pk != other:
            pairs[min(pk, other)].update({pk, other})
    return [Link("face", "face", members) for members in pairs.values()]


def _operators() -> list[Link]:
    """Registrants of one Dinas operator sharing an address (as typed, case
    and outer spaces aside): the operator's own details put in for others."""
    address = Lower(Trim("address"))
    rows = (
        Participant.objects.filter(registered_by__isnull=False)
        .annotate(addr=address)
        .values("registered_by_id", "addr")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    wanted = Q(pk__in=[])
    for row in rows:
        wanted |= Q(registered_by_id=row["registered_by_id"], addr=row["addr"])
    groups = defaultdict(set)
    names = {}
    for pk, operator, addr, email in (
        Participant.objects.annotate(addr=address)
        .filter(wanted)
        .values_list("pk", "registered_by_id", "addr", "registered_by__email")
    ):
        groups[(operator, addr)].add(pk)
        names[operator] = email
    return [Link("operator", f"operator {names[op]}: same address", pks) for (op, _addr), pks in groups.items()]


def links_find() -> list[Group]:
    """Every group of linked participants with what links them."""
    links = [*_phones(), *_devices(), *_accounts(), *_faces(), *_operators()]
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in links:
        first, *rest = sorted(link.members)
        for other in rest:
            parent[root(other)] = root(first)
    groups: dict[int, Group] = defaultdict(Group)
    for link in links:
        group = groups[root(min(link.members))]
        group.members |= link.members
        group.links.append(link)
    return list(groups.values())


def links_scan() -> list[Case]:
    """Opens a case for each member of each group scored at or above the
    threshold (a group that grows is a new group, with new cases)."""
    groups = [g for g in links_find() if g.score >= settings.INTEGRITY_LINK_CASE_SCORE]
    if not groups:
        return []
    keys = {f"linked:{g.key}:{pk}": (g, pk) for g in groups for pk in g.members}
    known = set(Case.objects.filter(key__in=list(keys)).values_list("key", flat=True))
    fresh = {key: value for key, value in keys.items() if key not in known}
    stake = money_at_stake({pk for _g, pk in fresh.values()})
    cases = []
    for key, (group, pk) in fresh.items():
        holds = group.score >= settings.INTEGRITY_LINK_HOLD_SCORE
        cases.append(
            Case(
                kind=Case.Kind.LINKED,
                stage=Case.Stage.SCAN,
                key=key,
                participant_id=pk,
                holds_money=holds,
                amount_held=stake.get(pk, 0) if holds else 0,
                evidence={
                    "group": group.key,
                    "score": group.score,
                    "members": sorted(group.members),
                    "links": [
                        {
                            "kind": link.kind,
                            "label": link.label,
                            "members": sorted(link.members),
                            "kyc": link.kyc_checks,
                        }
                        for link in group.links
                    ],
                },
            )
        )
    Case.objects.bulk_create(cases, ignore_conflicts=True)
    return cases
