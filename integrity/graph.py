"""A linked-accounts case's group drawn as a graph on the server (SVG, no
script): the participants on an inner ring, what they share on an outer
ring, a line from each shared thing to each participant it links. Colours
by kind; every label is escaped; the same facts are in the table beside."""

import math

from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

COLOURS = {"face": "#b42318", "account": "#b54708", "phone": "#175cd3", "device": "#6941c6", "operator": "#027a48"}
SIZE, CENTRE, INNER, OUTER = 560, 280, 110, 220
MAX_NODES = 60


def kind_label(kind: str) -> str:
    return {
        "face": _("the same face"),
        "account": _("one incentive account"),
        "phone": _("one mobile number"),
        "device": _("one browser"),
        "operator": _("one operator, same details"),
    }.get(kind, kind)


# Labels keep a white halo so lines crossing them stay readable.
TEXT = mark_safe(
    'font-size="11" text-anchor="middle" stroke="#ffffff" stroke-width="3" paint-order="stroke" fill="#101828"'
)


def _n(value: float) -> str:
    return f"{value:.1f}"


def _ring(count: int, radius: int) -> list[tuple[float, float]]:
    return [
        (
            CENTRE + radius * math.cos(2 * math.pi * i / max(count, 1) - math.pi / 2),
            CENTRE + radius * math.sin(2 * math.pi * i / max(count, 1) - math.pi / 2),
        )
        for i in range(count)
    ]


def link_graph_svg(evidence: dict, names: dict[int, str], focus: int | None = None) -> str:
    """``names``: each member's label (masked as the viewer's role needs);
    ``focus``: the case's own participant, drawn larger."""
    members = list(evidence.get("members", []))[:MAX_NODES]
    links = list(evidence.get("links", []))[:MAX_NODES]
    where = dict(zip(members, _ring(len(members), INNER), strict=True))
    spots = _ring(len(links), OUTER)
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="img" '
            'aria-labelledby="link-graph-title" id="link-graph">',
            SIZE,
            SIZE,
        ),
        format_html(
            '<title id="link-graph-title">{}</title>',
            _("%(people)d participants linked by %(links)d shared things, risk score %(score)s")
            % {"people": len(members), "links": len(links), "score": evidence.get("score", 0)},
        ),
    ]
    for (x, y), link in zip(spots, links, strict=True):
        colour = COLOURS.get(link.get("kind"), "#475467")
        for member in link.get("members", []):
            if member in where:
                mx, my = where[member]
                parts.append(
                    format_html(
                        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2"/>',
                        _n(x),
                        _n(y),
                        _n(mx),
                        _n(my),
                        colour,
                    )
                )
    for (x, y), link in zip(spots, links, strict=True):
        colour = COLOURS.get(link.get("kind"), "#475467")
        parts.append(
            format_html(
                '<g class="shared" data-kind="{}"><rect x="{}" y="{}" width="16" height="16" fill="{}"/>'
                '<text x="{}" y="{}" {}>{}</text></g>',
                link.get("kind", ""),
                _n(x - 8),
                _n(y - 8),
                colour,
                _n(x),
                _n(y + 22),
                TEXT,
                link.get("label", "")[:40],
            )
        )
    for member, (x, y) in where.items():
        big = member == focus
        parts.append(
            format_html(
                '<g class="member" data-participant="{}"><circle cx="{}" cy="{}" r="{}" fill="{}" '
                'stroke="#101828"/><text x="{}" y="{}" {}>{}</text></g>',
                member,
                _n(x),
                _n(y),
                12 if big else 8,
                "#fec84b" if big else "#ffffff",
                _n(x),
                _n(y - 16),
                TEXT,
                names.get(member, f"#{member}")[:30],
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every piece above is escaped


def masked_name(full_name: str) -> str:
    """'Wati Suryani' -> 'W*** S***': enough to tell people apart in a graph."""
    return " ".join(word[:1] + "***" for word in (full_name or "").split()) or "-"
