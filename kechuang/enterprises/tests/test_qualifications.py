"""`valid_on` at its boundaries, default expiry, and the renewal list."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kechuang.enterprises import services
from kechuang.enterprises.models import Qualification
from kechuang.enterprises.tests.factories import QualificationFactory, qtype

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.mark.parametrize(
    ("day", "valid"),
    [
        (D(2023, 10, 31), False),  # the day before issue
        (D(2023, 11, 1), True),  # issue day
        (D(2026, 10, 31), True),  # last day
        (D(2026, 11, 1), False),  # the day after expiry
    ],
)
def test_valid_on_issue_and_expiry_boundaries(enterprise, day, valid):
    q = QualificationFactory(enterprise=enterprise)
    assert Qualification.objects.valid_on(day).filter(pk=q.pk).exists() is valid
    assert q.is_valid_on(day) is valid


def test_revoked_is_invalid_from_revocation_day(enterprise):
    q = QualificationFactory(enterprise=enterprise, revoked_on=D(2025, 3, 1))
    assert Qualification.objects.valid_on(D(2025, 2, 28)).filter(pk=q.pk).exists()
    assert not Qualification.objects.valid_on(D(2025, 3, 1)).filter(pk=q.pk).exists()


def test_no_expiry_is_valid_forever(enterprise):
    q = QualificationFactory(enterprise=enterprise, type=qtype("LITTLE_GIANT"), expires_on=None)
    assert Qualification.objects.valid_on(D(2099, 1, 1)).filter(pk=q.pk).exists()


def test_default_expiry_leap_day():
    assert services.default_expiry(qtype("HTE"), D(2024, 2, 29)) == D(2027, 2, 27)
    assert services.default_expiry(qtype("TSME"), D(2025, 5, 10)) == D(2026, 5, 9)
    assert services.default_expiry(qtype("CONTEST_AWARD"), D(2025, 5, 10)) is None


def test_expiry_before_issue_is_refused(enterprise, officer):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.add_qualification(
            enterprise,
            {"type": qtype("HTE"), "issued_on": D(2025, 1, 1), "expires_on": D(2024, 1, 1)},
            acting_user=officer,
        )
    assert "expires_on" in exc.value.message_dict


def test_expiring_page_lists_only_window_and_scope(
    client_for, town_officer, enterprise, other_enterprise
):
    today = timezone.localdate()
    soon = QualificationFactory(
        enterprise=enterprise, issued_on=today - datetime.timedelta(days=1000),
        expires_on=today + datetime.timedelta(days=30), certificate_no="SOON",
    )  # fmt: skip
    QualificationFactory(
        enterprise=enterprise, issued_on=today, expires_on=today + datetime.timedelta(days=400),
        certificate_no="LATER",
    )  # fmt: skip
    QualificationFactory(
        enterprise=other_enterprise, issued_on=today - datetime.timedelta(days=1000),
        expires_on=today + datetime.timedelta(days=10),
    )  # fmt: skip
    response = client_for(town_officer).get(reverse("enterprises:expiring"), {"days": 90})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [soon]
    export = client_for(town_officer).get(reverse("enterprises:expiring-export"), {"days": 90})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
