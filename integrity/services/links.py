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
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import Lower, Trim

from accounts.models import Participant
from accounts.phone import mask_phone

from ..models import HOLDING_STATUSES, Case, DeviceSighting
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
    kyc_people: int = 0  # for a device: the participants those checks were for


@dataclass
class Group:
    members: set[int] = field(default_factory=set)
    links: list[Link] = field(default_factory=list)

    @property
    def wide(self) -> bool:
        """A link shared by very many (a warnet's browser, an office's
        computer) is more likely a public place than one jockey: its cases
        are opened for review but hold no money by themselves."""
        return any(len(link.members) > settings.INTEGRITY_LINK_WIDE for link in self.links)

    @property
    def key(self) -> str:
        return hashlib.sha256(",".join(map(str, sorted(self.members))).encode()).hexdigest()[:16]

    @property
    def score(self) -> int:
        points = 0
        for link in self.links:
            points += WEIGHTS[link.kind] * (len(link.members) - 1)
            if link.kind == "device" and link.kyc_people >= MANY_KYC:
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
    members, checks, checked = defaultdict(set), defaultdict(int), defaultdict(set)
    for key, pk, what, count in DeviceSighting.objects.filter(device_key__in=shared).values_list(
        "device_key", "participant_id", "what", "count"
    ):
        members[key].add(pk)
        if what == DeviceSighting.What.KYC:
            checks[key] += count
            checked[key].add(pk)
    return [
        Link("device", f"device {key[:6]}", pks, kyc_checks=checks[key], kyc_people=len(checked[key]))
        for key, pks in members.items()
    ]


def _accounts() -> list[Link]:
    from payments.channels import PayoutChannel
    from payouts.models import IncentiveAccount

    same = IncentiveAccount.objects.filter(
        channel_code=OuterRef("channel_code"), account_number=OuterRef("account_number")
    ).exclude(participant_id=OuterRef("participant_id"))
    by_account = defaultdict(set)
    for channel, number, pk in (
        IncentiveAccount.objects.filter(Exists(same))
        .values_list("channel_code", "account_number", "participant_id")
        .iterator(chunk_size=5000)
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
    # Another registrant of the same operator at the same address, not of the
    # same family card (a family shares its address by definition).
    same = (
        Participant.objects.annotate(addr=address)
        .filter(registered_by_id=OuterRef("registered_by_id"), addr=OuterRef("addr"))
        .exclude(pk=OuterRef("pk"))
        .exclude(family_card_id=OuterRef("family_card_id"))
    )
    groups = defaultdict(set)
    names = {}
    rows = (
        Participant.objects.filter(registered_by__isnull=False)
        .annotate(addr=address)
        .filter(Exists(same))
        .values_list("pk", "registered_by_id", "addr", "registered_by__email")
    )
    for pk, operator, addr, email in rows.iterator(chunk_size=5000):
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


EVIDENCE_MAX = 60  # members and links kept on a case (the graph draws as many); the counts are whole


def _evidence(group: Group) -> dict:
    members = sorted(group.members)
    return {
        "group": group.key,
        "score": group.score,
        "member_count": len(members),
        "members": members[:EVIDENCE_MAX],
        "wide": group.wide,
        "links": [
            {
                "kind": link.kind,
                "label": link.label,
                "member_count": len(link.members),
                "members": sorted(link.members)[:EVIDENCE_MAX],
                "kyc": link.kyc_checks,
            }
            for link in group.links[:EVIDENCE_MAX]
        ],
    }


def _signature(group: Group, pk: int) -> str:
    """What links this participant directly: a new link of theirs is a new
    finding (a new case, even after one was cleared); the group growing
    elsewhere is not."""
    own = sorted(f"{link.kind}:{link.label}" for link in group.links if pk in link.members)
    return hashlib.sha256("|".join(own).encode()).hexdigest()[:16]


def links_scan() -> list[Case]:
    """Opens a case for each member of each group scored at or above the
    threshold, or brings the member's open case up to date (the group as it
    is now; a case starts holding money once the score reaches the hold
    threshold, and never stops by itself). Returns the cases opened."""
    groups = [g for g in links_find() if g.score >= settings.INTEGRITY_LINK_CASE_SCORE]
    opened = []
    for start in range(0, len(groups), 500):
        opened += _scan_groups(groups[start : start + 500])
    return opened


def _scan_groups(groups: list[Group]) -> list[Case]:
    wanted = {pk: g for g in groups for pk in g.members}
    keys = {pk: f"linked:{pk}:{_signature(g, pk)}" for pk, g in wanted.items()}
    existing = {}
    ids = list(wanted)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for case in Case.objects.filter(kind=Case.Kind.LINKED, participant_id__in=chunk).order_by("pk"):
            if case.key == keys[case.participant_id] or case.status in HOLDING_STATUSES:
                existing.setdefault(case.participant_id, []).append(case)
    stake = money_at_stake(wanted)
    fresh, changed = [], []
    for pk, group in wanted.items():
        holds = group.score >= settings.INTEGRITY_LINK_HOLD_SCORE and not group.wide
        mine = existing.get(pk, [])
        same = next((c for c in mine if c.key == keys[pk]), None)
        live = next((c for c in mine if c.status in HOLDING_STATUSES), None)
        if same is not None and same.status not in HOLDING_STATUSES:
            continue  # decided: the same finding is not raised again
        case = live or same
        if case is not None:
            case.key = keys[pk]
            case.evidence = _evidence(group)
            if holds and not case.holds_money:
                case.holds_money, case.amount_held = True, stake.get(pk, 0)
            changed.append(case)
            continue
        fresh.append(
            Case(
                kind=Case.Kind.LINKED,
                stage=Case.Stage.SCAN,
                key=keys[pk],
                participant_id=pk,
                holds_money=holds,
                amount_held=stake.get(pk, 0) if holds else 0,
                evidence=_evidence(group),
            )
        )
    with transaction.atomic():
        Case.objects.bulk_update(changed, ["key", "evidence", "holds_money", "amount_held"], batch_size=1000)
        Case.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
    return fresh
