"""The shipped policy library compiles, and every officer-written YAML case passes."""

import pytest

from kechuang.rules.engine import RuleError
from kechuang.rules.engine.policy import (
    load_cases,
    load_library,
    load_policy,
    load_schema,
    run_case,
)

SCHEMA = load_schema()
POLICIES = load_library(schema=SCHEMA)
CASES = load_cases()


def test_library_has_the_expected_policies():
    assert set(POLICIES) == {
        "gaoqi_recognition",
        "kxzx_evaluation",
        "district_gaoqi_award",
        "district_little_giant_support",
        "district_academician_station",
    }


def test_district_programs_are_marked_as_examples():
    for code, policy in POLICIES.items():
        assert policy.example is code.startswith("district_")
        assert policy.manual_conditions, f"{code} lists the conditions a person must check"
        if policy.example:
            assert policy.amount is not None


def test_variables_have_bilingual_labels():
    for var in SCHEMA.variables.values():
        assert var.label_zh and var.label_en, var.code


@pytest.mark.parametrize(("file", "case"), CASES, ids=[f"{f}:{c['name']}" for f, c in CASES])
def test_yaml_case(file, case):
    result = run_case(case, POLICIES, SCHEMA)
    assert result.ok, "\n".join(result.failures) + "\n" + result.explanation.text()


def test_there_are_cases_for_every_policy():
    assert {case["policy"] for _, case in CASES} == set(POLICIES)


def test_policy_errors_name_the_condition():
    doc = {"code": "broken", "conditions": [{"code": "c1", "label_zh": "甲", "rule": "revenu > 1"}]}
    with pytest.raises(RuleError) as info:
        load_policy(doc, SCHEMA)
    assert info.value.source_name == "broken.c1"
    assert info.value.code == "unknown_variable"
