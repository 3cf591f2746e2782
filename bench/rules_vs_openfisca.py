"""Our engine against OpenFisca on the 高新技术企业认定 rule, 1,000,000 enterprises, one run.

The same rule is written as OpenFisca variables (entity ``enterprise``, yearly period,
input variables and formula variables, in OpenFisca's own idiom) and evaluated on the
same synthetic arrays as our compiled library rule. Prints both times, the ratio
ours / OpenFisca, and the number of enterprises whose verdicts differ (must be 0).

Setup:  bash bench/setup-openfisca.sh
Run:    PYTHONPATH=. .venv-bench/bin/python bench/rules_vs_openfisca.py [n]
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from openfisca_core.entities import build_entity  # noqa: E402
from openfisca_core.periods import DateUnit  # noqa: E402
from openfisca_core.simulations import SimulationBuilder  # noqa: E402
from openfisca_core.taxbenefitsystems import TaxBenefitSystem  # noqa: E402
from openfisca_core.variables import Variable  # noqa: E402
from rules_common import synthetic_columns  # noqa: E402

from kechuang.rules.engine import BulkEvaluator  # noqa: E402
from kechuang.rules.engine.policy import load_library, load_schema  # noqa: E402

YEAR = 2024
ON = dt.date(YEAR, 1, 1)  # OpenFisca's period "2024" starts here; ours evaluates on the same day

Enterprise = build_entity(
    key="enterprise",
    plural="enterprises",
    label="Enterprise",
    doc="An enterprise assessed by the district commission.",
    is_person=True,
)


def _input(name: str, value_type: type, period: DateUnit = DateUnit.YEAR) -> type[Variable]:
    return type(
        name,
        (Variable,),
        {
            "value_type": value_type,
            "entity": Enterprise,
            "definition_period": period,
            "label": name,
        },
    )


class rd_ratio(Variable):
    value_type = float
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "R&D expense / revenue of the year"

    def formula(enterprise, period, parameters):
        return enterprise("rd_expense", period) / enterprise("revenue", period)


class tech_staff_ratio(Variable):
    value_type = float
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "Technical staff / staff"

    def formula(enterprise, period, parameters):
        return enterprise("tech_staff", period) / enterprise("staff", period)


class hightech_revenue_ratio(Variable):
    value_type = float
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "High-tech revenue / revenue"

    def formula(enterprise, period, parameters):
        return enterprise("hightech_revenue", period) / enterprise("revenue", period)


class years_registered(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "Completed years since registration, at the start of the period"

    def formula(enterprise, period, parameters):
        registered = enterprise("registered_on", period)
        year = registered.astype("datetime64[Y]").astype(int) + 1970
        month = registered.astype("datetime64[M]").astype(int) % 12 + 1
        day = (registered - registered.astype("datetime64[M]")).astype(int) + 1
        start = period.start
        anniversary_passed = (month < start.month) | ((month == start.month) & (day <= start.day))
        return start.year - year - np.where(anniversary_passed, 0, 1)


class gaoqi_eligible(Variable):
    value_type = bool
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "Meets the machine-checkable 高新技术企业 criteria"

    def formula(enterprise, period, parameters):
        last = period.last_year
        revenue = enterprise("revenue", last)
        threshold = np.select([revenue <= 5e7, revenue <= 2e8], [0.05, 0.04], default=0.03)
        return (
            (enterprise("years_registered", period) >= 1)
            * (
                (enterprise("invention_patents_valid", period) >= 1)
                + (enterprise("ip_count", period) >= 1)
            )
            * (enterprise("tech_staff_ratio", last) >= 0.10)
            * (enterprise("rd_ratio", last) >= threshold)
            * (enterprise("hightech_revenue_ratio", last) >= 0.60)
        )


def build_system() -> TaxBenefitSystem:
    system = TaxBenefitSystem([Enterprise])
    for name in ("revenue", "rd_expense", "hightech_revenue", "staff", "tech_staff"):
        system.add_variable(_input(name, float))
    for name in ("invention_patents_valid", "ip_count"):
        system.add_variable(_input(name, float))
    system.add_variable(_input("registered_on", dt.date, DateUnit.ETERNITY))
    for variable in (
        rd_ratio,
        tech_staff_ratio,
        hightech_revenue_ratio,
        years_registered,
        gaoqi_eligible,
    ):
        system.add_variable(variable)
    return system


def openfisca_run(system: TaxBenefitSystem, columns: dict, n: int) -> tuple[np.ndarray, float]:
    """Fresh simulation (OpenFisca caches results), inputs set outside the timer."""
    sim = SimulationBuilder().build_default_simulation(system, n)
    last = str(YEAR - 1)
    for name in ("revenue", "rd_expense", "hightech_revenue", "staff", "tech_staff"):
        sim.set_input(name, last, columns[("metric", name, -1)])
    for name in ("invention_patents_valid", "ip_count"):
        sim.set_input(name, str(YEAR), columns[("field", name)])
    sim.set_input("registered_on", "ETERNITY", columns[("field", "registered_on")])
    start = time.perf_counter()
    result = sim.calculate("gaoqi_eligible", str(YEAR))
    return result, time.perf_counter() - start


def ours_run(rule, columns: dict, n: int) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    verdicts = BulkEvaluator(columns, n, on=ON).verdicts(rule)
    return verdicts, time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    columns = synthetic_columns(n, missing=0.0, seed=11)
    columns[("metric", "staff", -1)] = np.maximum(columns[("metric", "staff", -1)], 1.0)
    rule = load_library(schema=load_schema())["gaoqi_recognition"].condition
    system = build_system()

    ours_times, of_times = [], []
    for _ in range(5):
        ours, t = ours_run(rule, columns, n)
        ours_times.append(t)
        theirs, t = openfisca_run(system, columns, n)
        of_times.append(t)

    ours_best, of_best = min(ours_times), min(of_times)
    complete = ours != -1
    mismatches = int(np.count_nonzero((ours[complete] == 1) != theirs[complete]))
    print(
        f"enterprises: {n:,} (complete data: {int(complete.sum()):,}; eligible: {int((ours == 1).sum()):,})"
    )
    print(
        f"ours      : best {ours_best * 1000:7.1f} ms  median {statistics.median(ours_times) * 1000:7.1f} ms"
    )
    print(
        f"OpenFisca : best {of_best * 1000:7.1f} ms  median {statistics.median(of_times) * 1000:7.1f} ms"
    )
    print(f"ratio ours/OpenFisca: {ours_best / of_best:.2f} (target <= 1.5)")
    print(f"verdict mismatches on complete data: {mismatches}")
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
