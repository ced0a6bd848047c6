import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_speak_indonesian_even_to_a_browser_set_to_english(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="id">' in response.content.decode()
    assert response["Content-Language"] == "id"


def test_english_once_chosen_stays(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("account_login"))
    assert '<html lang="en">' in response.content.decode()
    assert "Sign In" in response.content.decode()
    client.post(reverse("set_language"), {"language": "id", "next": "/"})
    assert '<html lang="id">' in client.get(reverse("account_login")).content.decode()


def test_an_unknown_language_falls_back_to_indonesian(client):
    client.cookies["django_language"] = "xx"
    assert '<html lang="id">' in client.get(reverse("home")).content.decode()
