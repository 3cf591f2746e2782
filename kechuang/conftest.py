"""Named personas used across the suite (one place, like healthchecks' alice/bob).

- officer: commission staff, sees the whole district
- town_officer / other_town_officer: station staff of two different towns
- enterprise_user / other_enterprise_user: users of two enterprises in different towns
- expert, unit_user, outsider (public role, logged in)
"""

import pytest

from kechuang.core.models import JurisdictionLevel, Role
from kechuang.core.tests.factories import JurisdictionFactory, UserFactory
from kechuang.enterprises.tests.factories import EnterpriseFactory


@pytest.fixture
def district(db):
    return JurisdictionFactory(code="310199", name="申江区", level=JurisdictionLevel.DISTRICT)


@pytest.fixture
def town(district):
    return JurisdictionFactory(code="310199105", name="莘庄镇", parent=district)


@pytest.fixture
def other_town(district):
    return JurisdictionFactory(code="310199106", name="七宝镇", parent=district)


@pytest.fixture
def park(town):
    return JurisdictionFactory(
        code="310199105P1", name="莘庄工业园区", level=JurisdictionLevel.PARK, parent=town
    )


@pytest.fixture
def enterprise(town):
    return EnterpriseFactory(name="上海莘庄智能装备有限公司", jurisdiction=town)


@pytest.fixture
def other_enterprise(other_town):
    return EnterpriseFactory(name="上海七宝生物医药有限公司", jurisdiction=other_town)


@pytest.fixture
def officer(district):
    return UserFactory(username="officer", role=Role.COMMISSION, jurisdiction=district)


@pytest.fixture
def town_officer(town):
    return UserFactory(username="town_officer", role=Role.STATION, jurisdiction=town)


@pytest.fixture
def other_town_officer(other_town):
    return UserFactory(username="other_town_officer", role=Role.STATION, jurisdiction=other_town)


@pytest.fixture
def enterprise_user(enterprise):
    return UserFactory(username="ent_user", role=Role.ENTERPRISE, enterprise=enterprise)


@pytest.fixture
def other_enterprise_user(other_enterprise):
    return UserFactory(username="other_ent_user", role=Role.ENTERPRISE, enterprise=other_enterprise)


@pytest.fixture
def expert(db):
    return UserFactory(username="expert", role=Role.EXPERT)


@pytest.fixture
def unit_user(db):
    return UserFactory(username="unit_user", role=Role.UNIT)


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider", role=Role.PUBLIC)


@pytest.fixture
def client_for(client):
    """Log a persona in: `client_for(town_officer).get(...)`."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    """An API client authenticated by the persona's token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user):
        token, _ = Token.objects.get_or_create(user=user)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    return make
