""" "Valid on a date" has one definition; its ORM, SQL, array and per-record forms agree."""

import datetime

import numpy as np
import pytest
from django.db import connection

from kechuang.enterprises.models import Qualification
from kechuang.enterprises.tests.factories import EnterpriseFactory, QualificationFactory
from kechuang.enterprises.validity import is_valid_on, valid_on_mask, valid_on_sql
from kechuang.plans import aggregates, columnar

D = datetime.date(2025, 6, 30)
ONE = datetime.timedelta(days=1)

# name: (issued, expires, revoked, valid on D?)
CASES = {
    "issued on D, never expires": (D, None, None, True),
    "issued the day after": (D + ONE, None, None, False),
    "expires on D": (D - 300 * ONE, D, None, True),
    "expired the day before": (D - 300 * ONE, D - ONE, None, False),
    "revoked on D": (D - 300 * ONE, D + 300 * ONE, D, False),
    "revoked the day after": (D - 300 * ONE, D + 300 * ONE, D + ONE, True),
    "issued, expires and revoked on D": (D, D, D, False),
    "issued and expires on D": (D, D, None, True),
}


@pytest.fixture
def certificates(town):
    return {
        name: QualificationFactory(
            enterprise=EnterpriseFactory(jurisdiction=town),
            issued_on=issued,
            expires_on=expires,
            revoked_on=revoked,
        )
        for name, (issued, expires, revoked, _valid) in CASES.items()
    }


def _orm(day):
    return set(Qualification.objects.valid_on(day).values_list("pk", flat=True))


def _sql(day):
    sql, params = valid_on_sql(day)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Qualification._meta.db_table} WHERE {sql}", params)  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


def _arrays(day):
    cols = columnar.load(
        Qualification._meta.db_table,
        {"id": "id", "issued_on": "date", "expires_on": "date", "revoked_on": "date"},
    )
    for col in ("expires_on", "revoked_on"):
        cols[col][cols[col] < 0] = 2**40  # NULL: never
    mask = valid_on_mask(
        cols["issued_on"], cols["expires_on"], cols["revoked_on"], columnar.day_number(day)
    )
    return set(cols["id"][mask].tolist())


def _records(day):
    return {q.pk for q in Qualification.objects.all() if q.is_valid_on(day)}


@pytest.mark.django_db
def test_every_form_gives_the_expected_answer_on_edge_dates(certificates):
    expected = {certificates[name].pk for name, case in CASES.items() if case[3]}
    assert _orm(D) == expected
    assert _sql(D) == expected
    assert _arrays(D) == expected
    assert _records(D) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [-1, 1, 301])
def test_the_forms_agree_on_neighbouring_days(certificates, offset):
    day = D + offset * ONE
    assert _orm(day) == _sql(day) == _arrays(day) == _records(day)


@pytest.mark.django_db
def test_indicator_count_uses_the_same_rule(certificates):
    spec = aggregates.validate_spec({"aggregate": "count_valid", "qualification": "HTE"})
    for day in (D - ONE, D, D + ONE):
        raw = aggregates.compute_raw([spec], [day])
        assert raw[(aggregates.spec_key(spec), day)] == len(_orm(day))


def test_single_values_follow_the_rule():
    assert is_valid_on(D, None, None, D)
    assert not is_valid_on(D, None, D, D)
    assert is_valid_on(D, D, None, D)
    assert not is_valid_on(D, D - ONE, None, D)
    days = np.array([10, 11, 12])
    assert valid_on_mask(days, np.array([12, 12, 12]), np.array([99, 12, 99]), 12).tolist() == [
        True,
        False,
        True,
    ]
