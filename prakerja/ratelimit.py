"""A fixed-window counter in the cache, for limits that protect forms from
being used to probe data (is this NIK registered?) or to hammer services."""

from django.core.cache import cache


def peek(key: str, *, limit: int) -> bool:
    """True while fewer than ``limit`` attempts fell in the current window
    (counts nothing)."""
    return (cache.get(f"ratelimit:{key}") or 0) < limit


def hit(key: str, *, limit: int, window_seconds: int) -> bool:
    """Counts one attempt; False once ``limit`` attempts fell in the window."""
    cache_key = f"ratelimit:{key}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        count = 1
    return count <= limit
