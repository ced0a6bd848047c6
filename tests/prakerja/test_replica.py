"""Issue 16: the catalog's reads go through a router that sends them to a
read replica, with reads after a write pinned to the primary. The replica
here is a second database on the local server that receives no
replication, so what a page shows says where it read: the primary holds a
published course, the replica (a replica lagging behind) does not yet."""

import pytest
from django.db import connections
from django.urls import reverse

from catalog.models import Course
from prakerja.db import PIN_COOKIE
from tests.catalog.test_catalog import publish

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

TITLE = "Barista Profesional"


@pytest.fixture
def replica_reads(settings):
    settings.CATALOG_READS_FROM_REPLICA = True
    assert connections["replica"].settings_dict["NAME"] != connections["default"].settings_dict["NAME"]


def test_catalog_pages_read_the_replica_until_the_visitor_writes(client, world, replica_reads):
    institution, staff = world["institution"]("LPK Kopi")
    revision = publish(world, institution, staff, title=TITLE)
    assert Course.objects.filter(pk=revision.course_id).exists()  # outside a request: the primary
    assert not Course.objects.using("replica").exists()  # the replica has not caught up

    # An anonymous visitor's catalog page and the course's page are read from the replica.
    page = client.get(reverse("catalog:list")).content.decode()
    assert TITLE not in page
    assert client.get(reverse("catalog:detail", args=[revision.course_id])).status_code == 404
    assert PIN_COOKIE not in client.cookies

    # The institution's staff member writes (signs in: a session is saved), and from then on
    # reads the primary: their own pages and the public catalog show what they just did.
    client.force_login(staff)
    response = client.post(reverse("set_language"), {"language": "id", "next": reverse("catalog:list")})
    assert response.status_code == 302 and client.cookies[PIN_COOKIE]["max-age"] == 10
    assert TITLE in client.get(reverse("catalog:list")).content.decode()
    assert client.get(reverse("catalog:detail", args=[revision.course_id])).status_code == 200

    # Once the pin has expired (the cookie is gone), the replica again.
    del client.cookies[PIN_COOKIE]
    assert TITLE not in client.get(reverse("catalog:list")).content.decode()


def test_without_a_replica_setting_everything_reads_the_primary(client, world, settings):
    settings.CATALOG_READS_FROM_REPLICA = False
    institution, staff = world["institution"]("LPK Teh")
    publish(world, institution, staff, title=TITLE)
    assert TITLE in client.get(reverse("catalog:list")).content.decode()
    assert PIN_COOKIE not in client.cookies
