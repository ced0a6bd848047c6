"""Background jobs of the integrity app; each takes ids and is safe to run twice."""

from celery import shared_task


@shared_task
def import_screening_list(list_id: int) -> None:
    from .models import ScreeningList
    from .services.lists import screening_list_import
    from .services.rescreen import rescreen

    if screening_list_import(list_id=list_id):
        kind = ScreeningList.objects.values_list("kind", flat=True).get(pk=list_id)
        rescreen(list_kind=kind, list_id=list_id)


@shared_task
def rescreen_exclusion_list(exclusion_list_id: int) -> None:
    from .services.rescreen import rescreen

    rescreen(list_kind="exclusion", list_id=exclusion_list_id)


@shared_task
def scan_completions() -> int:
    """Beat, daily: the completion anomaly check."""
    from .services.anomalies import completions_scan

    return len(completions_scan())


@shared_task
def scan_conflicts() -> int:
    """Beat, daily: listings on sale by a platform affiliated with their institution."""
    from .services.conflicts import conflicts_scan

    return len(conflicts_scan())


@shared_task
def scan_links() -> int:
    """Beat, daily: participants linked by a phone, browser, account, face or operator."""
    from .services.links import links_scan

    return len(links_scan())
