import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "persona", ["officer", "town_officer", "enterprise_user", "expert", "outsider"]
)
def test_home_renders_for_every_role(
    request, client_for, persona, enterprise, django_assert_max_num_queries
):
    client = client_for(request.getfixturevalue(persona))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200


def test_home_counts_only_own_town(client_for, town_officer, enterprise, other_enterprise):
    response = client_for(town_officer).get(reverse("dashboard:home"))
    assert response.context["enterprise_count"] == 1
