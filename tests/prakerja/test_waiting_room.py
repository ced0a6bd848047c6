"""Issue 16, registration day: over capacity, a newcomer to sign-up and
registration gets a place in a fair queue (Redis) and a light page with
their place, moving in as places free; never an error."""

import time
import uuid

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from prakerja import waiting_room
from tests.browser import _url

SIGNUP = "/akun/signup/"


@pytest.fixture
def room(settings):
    settings.WAITING_ROOM_ENABLED = True
    settings.WAITING_ROOM_CAPACITY = 2
    settings.WAITING_ROOM_KEY_PREFIX = f"test-wr-{uuid.uuid4().hex}"
    waiting_room._client = None
    client = waiting_room._redis()[0]
    yield settings
    for key in waiting_room._keys():
        client.delete(key)
    waiting_room._client = None


def place(response) -> int | None:
    """The queue place the page shows, or None when the sign-up form is shown."""
    text = response.content.decode()
    if 'id="waiting-room"' not in text:
        assert 'name="password1"' in text  # the real sign-up form
        return None
    return int(text.split('id="queue-position">', 1)[1].split("<", 1)[0])


def visitors(client_class, n):
    return [client_class() for _ in range(n)]


@pytest.mark.django_db
def test_over_capacity_newcomers_queue_in_order_and_move_in_as_places_free(room, client):
    from django.test import Client

    a, b, c, d = visitors(Client, 4)
    assert place(a.get(SIGNUP)) is None and place(b.get(SIGNUP)) is None  # capacity 2: both in
    waiting = c.get(SIGNUP)
    assert waiting.status_code == 200 and place(waiting) == 1
    assert waiting["Retry-After"] == "15" and 'http-equiv="refresh"' in waiting.content.decode()
    assert "Banyak orang" in waiting.content.decode()  # Bahasa Indonesia by default
    assert place(d.get(SIGNUP)) == 2
    assert place(c.get(SIGNUP)) == 1  # reloading keeps the place
    assert place(a.get(SIGNUP)) is None  # the admitted keep going
    # Other pages are never held.
    assert c.get(reverse("catalog:list")).status_code == 200

    # A's allowance runs out (no request for WAITING_ROOM_ADMIT_SECONDS): C moves in, D is next.
    redis = waiting_room._redis()[0]
    admitted_key = waiting_room._keys()[0]
    redis.zadd(admitted_key, {a.cookies[waiting_room.COOKIE].value: time.time() - 1})
    assert place(c.get(SIGNUP)) is None
    assert place(d.get(SIGNUP)) == 1

    # B's sign-up goes through: B's place goes to D at once.
    done = b.post(SIGNUP, {"email": "b@example.com", "password1": "s3cret-Passw0rd", "password2": "s3cret-Passw0rd"})
    assert done.status_code == 302
    assert place(d.get(SIGNUP)) is None

    # Someone who closed the page gives up their place: F behind E, E stops asking.
    e, f = Client(), Client()
    assert place(e.get(SIGNUP)) == 1 and place(f.get(SIGNUP)) == 2
    redis.zadd(waiting_room._keys()[2], {e.cookies[waiting_room.COOKIE].value: time.time() - 120})
    assert place(f.get(SIGNUP)) == 1


@pytest.mark.django_db
def test_staff_and_a_room_without_redis_are_never_held(room, admin_client, settings):
    from django.test import Client

    settings.WAITING_ROOM_CAPACITY = 0
    assert place(Client().get(SIGNUP)) == 1
    assert 'id="waiting-room"' not in admin_client.get(reverse("accounts:register")).content.decode()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    waiting_room._client = None
    assert place(Client().get(SIGNUP)) is None  # fails open: the form, not an error


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_waiting_page_on_a_phone_lets_the_person_in_when_their_turn_comes(room, phone_page, live_server, settings):
    from django.test import Client

    settings.WAITING_ROOM_CAPACITY = 1
    settings.WAITING_ROOM_REFRESH_SECONDS = 1
    first = Client()
    first.get(SIGNUP)  # the one place is taken
    phone_page.goto(_url(live_server, SIGNUP))
    expect(phone_page.locator("#queue-position")).to_have_text("1")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    redis = waiting_room._redis()[0]
    redis.zadd(waiting_room._keys()[0], {first.cookies[waiting_room.COOKIE].value: time.time() - 1})
    # The page checks again by itself and shows the sign-up form.
    expect(phone_page.locator("input[name=password1]")).to_be_visible(timeout=10_000)
