"""The column back end computes exactly or hands the batch over, never a wrong amount (issue 28, "exact or refused").

Its fractions (engine.columns.arrays.Q) are int64 while their numerators fit and Python's own integers past that.
Before, a Ningxia component round(900000.00 × 12.34567% × 12.34567% × 12.34567%) was 1693.51 person by person and
−3.60 in a batch: the product's numerator (about 1.7 × 10²⁶) wrapped around in int64 without a word.
"""
import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import evaluate, policy_from_texts, read_as_of, read_person
from engine.columns import columnar
from engine.columns.arrays import LIMIT, Q
from engine.populations import batch

AS_OF = "2020-06-30"
# aged 60 or more at the scheme start: each receives the basic pension without paying, and the test component
PERSONS = [{"id": f"p{i}", "birth_date": f"{1930 + 3 * i}-0{1 + i % 9}-15", "hukou": {"type": "rural",
                                                                                    "county": "明光"},
            "contributions": []} for i in range(7)]


def policy_with(formula: str, base_amount: str, registry):
    text = f"""region anhui
value 试验基数 "试验基数" "test base": 元/月
  from 2009-01-01  {base_amount}  cite 安徽高质量发展
component 试验 "试验" "test" = {formula}
  cite 安徽高质量发展
"""
    return policy_from_texts({"exact.policy": text}, base=registry)


def both_back_ends(policy):
    """(the component by the column back end, by the one-person back end, reasons the columns handed any row)."""
    as_of = read_as_of(AS_OF)
    result = columnar.evaluate_batch(policy, as_of, batch.as_table(list(enumerate(PERSONS, start=1))))
    by_columns = [Decimal(int(f)) / 100 for f in result.columns["试验"]] if "试验" in result.columns else None
    one_by_one = [evaluate(policy, read_person(policy, p, as_of), as_of).monthly_pension.component("试验").amount.total
                  for p in PERSONS]
    return by_columns, one_by_one, result.counts()


def test_the_product_that_wrapped_around_is_exact(registry):
    policy = policy_with("round(试验基数 × 12.34567% × 12.34567% × 12.34567%)", "900000.00", registry)
    by_columns, one_by_one, handed = both_back_ends(policy)
    assert handed == {}  # computed by the columns themselves, not handed over
    # 900000 × 0.1234567³ = 1693.50507… → 1693.51 (half-up to the fen)
    assert one_by_one == [Decimal("1693.51")] * len(PERSONS)
    assert by_columns == one_by_one


def test_a_divisor_per_person_is_exact(registry):
    """Each person's own divisor (age + 7): each distinct one in turn, over a common denominator."""
    policy = policy_with("round(试验基数 × 12.34567% × 12.34567% × 12.34567% × age ÷ (age + 7))", "900000.00", registry)
    by_columns, one_by_one, handed = both_back_ends(policy)
    assert handed == {}
    # the first person, born 1930-01-15, is 90 on 2020-06-30: 1693.50507… × 90 / 97 = 1571.29336… → 1571.29
    assert one_by_one[0] == Decimal("1571.29")
    assert by_columns == one_by_one


def test_a_division_by_zero_hands_the_batch_over_with_the_reason(registry):
    policy = policy_with("round(试验基数 × age ÷ (age - age))", "100.00", registry)
    result = columnar.evaluate_batch(policy, read_as_of(AS_OF), batch.as_table(list(enumerate(PERSONS, start=1))))
    assert result.counts() == {"whole_batch.division_by_zero": len(PERSONS)}


def test_wide_values_narrow_back_when_they_fit():
    big = Q(np.array([3, -7, 10], dtype=np.int64), 1)
    huge = big * Q.of(Decimal(2) ** 70, 3)  # past int64: Python's integers
    assert huge.num.dtype == object and huge.peak > LIMIT
    back = huge.divide(Q.of(Decimal(2) ** 70, 3))
    assert back.num.dtype == np.int64 and back.num.tolist() == [3, -7, 10] and back.den == 1


DIGITS = st.integers(1, 10 ** 7)


@st.composite
def formulas(draw):
    """round(base × p1% × … [÷ (age + k)] [+ base × q%]) with percentages of up to five decimals: numerators far
    past int64, values up to 10²⁰ yuan (past int64 in fen: refused). At most 28 significant digits in any product,
    where Decimal (the one-person back end) is exact too."""
    factors = draw(st.lists(st.builds(lambda n, places: f"{Decimal(n).scaleb(-places)}%", DIGITS, st.integers(0, 5)),
                            min_size=1, max_size=3))
    text = "试验基数 × " + " × ".join(factors)
    if draw(st.booleans()):
        text += f" × age ÷ (age + {draw(st.integers(1, 40))})"
    if draw(st.booleans()):
        text += f" + 试验基数 × {draw(DIGITS)}%"
    return f"round({text})"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(formula=formulas(), base=st.integers(1, 10 ** 7).map(lambda n: f"{Decimal(n).scaleb(-2)}"))
def test_both_back_ends_agree_on_decimals_past_int64(registry, formula, base):
    policy = policy_with(formula, base, registry)
    by_columns, one_by_one, handed = both_back_ends(policy)
    if max(abs(v) for v in one_by_one) * 100 > 2 ** 63 - 1:  # past the column back end's fen (int64)
        assert handed == {"whole_batch.too_large": len(PERSONS)}
        return
    assert handed == {}, formula
    assert by_columns == one_by_one, formula


@pytest.mark.parametrize("doublings", [40, 55])
def test_a_doubling_chain_is_exact(registry, doublings):
    """A `let` added to itself again and again: 88 × 2⁵⁵ fen is past int64 on the way, not at the end (÷ 2⁵⁵)."""
    lines = ["region anhui", "let d0 = central_basic_pension", "  cite 安徽高质量发展"]
    for i in range(1, doublings + 1):
        lines += [f"let d{i} = d{i - 1} + d{i - 1}", "  cite 安徽高质量发展"]
    lines += [f'component 试验 "试验" = d{doublings} ÷ {2 ** doublings}', "  cite 安徽高质量发展"]
    policy = policy_from_texts({"exact.policy": "\n".join(lines) + "\n"}, base=registry)
    by_columns, one_by_one, handed = both_back_ends(policy)
    assert handed == {}
    assert one_by_one == [Decimal("88.00")] * len(PERSONS)  # the central basic pension on 2020-06-30
    assert by_columns == one_by_one
    assert dt.date.fromisoformat(AS_OF).year == 2020
