"""The public record of a wave's lottery (no login): the seed's SHA-256,
published when registration opened; after the draw the seed itself, the
quotas, and every application that took part by its number, province and
outcome, from which anyone runs the draw again (enrollment.lottery). No
names: the number is the application's, and each participant sees their own
on their waves page. This is the draw's record, not a statistic, so the
public statistics' small-count rule does not apply to it."""

import csv

from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .models import Wave, WaveApplication
from .services.waves import seed_commitment

A = WaveApplication.Status
OUTCOMES = (A.SELECTED, A.NOT_SELECTED, A.INELIGIBLE)


def _wave(number: int) -> Wave:
    wave = Wave.objects.filter(number=number).exclude(status=Wave.Status.DRAFT).first()
    if wave is None:
        raise Http404
    return wave


def _rows(wave: Wave):
    return (
        WaveApplication.objects.filter(wave=wave, status__in=OUTCOMES)
        .order_by("pk")
        .values_list("pk", "province_code", "status", "draw_position")
    )


@require_GET
@cache_control(public=True, max_age=60)
def wave_lottery(request, number):
    wave = _wave(number)
    drawn = wave.status == Wave.Status.DRAWN
    page = Paginator(_rows(wave), 500).get_page(request.GET.get("page")) if drawn else None
    labels = dict(A.choices)
    matches = drawn and bool(wave.draw_commitment) and seed_commitment(wave.draw_seed) == wave.draw_commitment
    return render(
        request,
        "enrollment/lottery.html",
        {
            "wave": wave,
            "drawn": drawn,
            "page": page,
            "rows": [(pk, prov, labels[st], pos) for pk, prov, st, pos in page.object_list] if page else [],
            "seed_matches": matches,
        },
    )


class _Echo:
    def write(self, value):
        return value


@require_GET
def wave_lottery_csv(request, number):
    """Every application of the draw, streamed (a wave of 800,000 without
    holding them in memory): application, province, outcome, position."""
    wave = _wave(number)
    if wave.status != Wave.Status.DRAWN:
        raise Http404
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(["application", "province", "outcome", "draw_position"])
        for pk, province, status, position in _rows(wave).iterator(chunk_size=5000):
            yield writer.writerow([pk, province, status, "" if position is None else position])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="undian-gelombang-{wave.number}.csv"'
    return response
