"""Properties over many generated persons: monotonic in the tier, deterministic, money invariants."""
import json
import re
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

NATIONAL_TIERS = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000]
NINGXIA_2011_TIERS = NATIONAL_TIERS
MONEY = re.compile(r"^[0-9]+\.[0-9]{2}$")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def persons(draw, region="national"):
    # Born late enough that every record falls before the pension start (earlier ones are errors).
    birth_year = draw(st.integers(1965, 1975))
    years = range(2015, 2024) if region == "national" else range(2012, 2019)
    chosen = draw(st.lists(st.sampled_from(list(years)), unique=True, max_size=len(years)))
    tiers = NATIONAL_TIERS if region == "national" else NINGXIA_2011_TIERS
    contributions = [{"year": y, "tier": f"{draw(st.sampled_from(tiers))}.00", "kind": "regular",
                      "date": f"{y}-{draw(st.integers(1, 6)):02d}-15",
                      "collective": f"{draw(st.integers(0, 50))}.00"} for y in sorted(chosen)]
    groups = draw(st.lists(st.sampled_from(["dibao", "severe_disability", "only_child_family"]), unique=True,
                           max_size=2))
    return {"birth_date": f"{birth_year}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}",
            "hukou": {"type": draw(st.sampled_from(["rural", "urban"]))},
            "scheme_start_date": "2011-07-01",
            "groups": [{"id": g, "from": "2011-07-01"} for g in groups],
            "contributions": contributions}


def money_fields(d):
    yield d["monthly_pension"]["total"]
    for c in d["monthly_pension"]["components"]:
        yield c["amount"]
    for r in d["contributions"]:
        yield from (r["personal"], r["government_paid"], r["subsidy"]["total"], r["collective"], r["credited"])
    yield from d["account"].values()
    yield from d["death"].values()


@SETTINGS
@given(person=persons(), as_of=st.sampled_from(["2024-06-30", "2028-01-31", "2035-12-31"]))
def test_money_invariants(determine, person, as_of):
    d = determine("national", as_of, person)
    assert all(MONEY.match(m) for m in money_fields(d))
    total = sum(Decimal(c["amount"]) for c in d["monthly_pension"]["components"])
    assert Decimal(d["monthly_pension"]["total"]) == total
    for r in d["contributions"]:
        parts = Decimal(r["personal"]) + Decimal(r["government_paid"]) + Decimal(r["subsidy"]["total"]) + \
            Decimal(r["collective"])
        assert Decimal(r["credited"]) == parts
        assert Decimal(r["personal"]) + Decimal(r["government_paid"]) == Decimal(r["tier"])
    basic = d["monthly_pension"]["components"][0]
    assert sum(Decimal(v) for v in basic["by_level"].values()) == Decimal(basic["amount"])


@SETTINGS
@given(region=st.sampled_from(["national", "ningxia"]), data=st.data())
def test_evaluation_is_deterministic(determine, region, data):
    person = data.draw(persons(region))
    first = determine(region, "2030-06-30", person, explain=True)
    second = determine(region, "2030-06-30", json.loads(json.dumps(person)), explain=True)
    assert first == second


@SETTINGS
@given(person=persons(), region=st.sampled_from(["national", "ningxia"]), data=st.data())
def test_a_higher_tier_never_lowers_the_pension(determine, person, region, data):
    if region == "ningxia":
        person = data.draw(persons("ningxia"))
    assume(person["contributions"])  # a person without records has no tier to raise: not an example
    i = data.draw(st.integers(0, len(person["contributions"]) - 1))
    tiers = NATIONAL_TIERS
    current = int(Decimal(person["contributions"][i]["tier"]))
    higher = data.draw(st.sampled_from([t for t in tiers if t >= current]))
    raised = json.loads(json.dumps(person))
    raised["contributions"][i]["tier"] = f"{higher}.00"
    for as_of in ("2030-06-30", "2040-01-31"):
        before = determine(region, as_of, person)
        after = determine(region, as_of, raised)
        assert Decimal(after["monthly_pension"]["total"]) >= Decimal(before["monthly_pension"]["total"])
        assert Decimal(after["account"]["balance_at_pension_start"]) >= \
            Decimal(before["account"]["balance_at_pension_start"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**9, max_value=10**9, places=4),
                min_size=1, max_size=20), st.randoms())
def test_money_text_is_the_half_up_fen_whatever_was_printed_before(values, rnd):
    """fmt's memo (engine.core.money) answers equal Decimals alike: 570.0 and 570.00 print the same, and 0 and −0
    are the one pair that must not share an answer. Printed in any order, in any exponent, each value's text is
    its own half-up quantize."""
    from decimal import ROUND_HALF_UP

    from engine.core.money import FEN, fmt
    variants = []
    for v in values:
        variants += [v, v.quantize(Decimal("0.0001")), -v, Decimal(0), Decimal("-0.000")]
    rnd.shuffle(variants)
    for v in variants:
        assert fmt(v) == str(v.quantize(FEN, rounding=ROUND_HALF_UP))
