"""domain.md §6: the worked checks any engine must agree with."""
from decimal import Decimal

from engine import evaluate, policy_from_texts, read_as_of, read_person

# A region on the national baseline whose account earns no interest and whose tier 500 is subsidised 60 every year:
# the setting of §6's account formula.
NO_INTEREST = """region 无息 "无息试验区" "no-interest test region" extends national
value interest_rate
  from 1900-01-01  0%  cite 国发2014_8
tiers contribution_tiers
  from 2009-09-01  cite 国发2014_8
  | 档次 tier | 省 province |
  |  500      | 60          |
"""


def test_account_formula_without_interest(registry):
    # §6: 15 × (500 + 60) = 8400.00 → account pension 60.43 (8400.00 / 139 = 60.431… → 60.43), through the engine:
    # born 1965-03-01, 15 years at 500 from 2010, pension from the month after the 60th birthday, 2025-04-01.
    policy = policy_from_texts({"worked.policy": NO_INTEREST}, base=registry)
    as_of = read_as_of("2025-06-30")
    person = {"id": "w", "birth_date": "1965-03-01", "scheme_start_date": "2009-09-01", "hukou": {"type": "rural"},
              "contributions": [{"year": y, "tier": "500.00", "kind": "regular", "date": f"{y}-03-01"}
                                for y in range(2010, 2025)]}
    decision = evaluate(policy, read_person(policy, person, as_of), as_of)
    assert decision.eligibility.pension_start_date.isoformat() == "2025-04-01"
    assert decision.account.balance_at_pension_start == Decimal("8400.00")
    assert str(decision.monthly_pension.component("account_pension").amount.total) == "60.43"


def test_national_aged_60_at_scheme_start_draws_central_only(determine):
    # §6: born 1949-05-20, scheme start 2011-07-01, no contributions, as of 2025-06-30:
    # receiving, 143.00/month (central only).
    d = determine("national", "2025-06-30", {"birth_date": "1949-05-20", "scheme_start_date": "2011-07-01",
                                             "contributions": []})
    assert d["status"] == "receiving"
    assert d["monthly_pension"]["total"] == "143.00"
    basic = d["monthly_pension"]["components"][0]
    assert basic == {"id": "basic_pension", "amount": "143.00", "by_level": {"central": "143.00"}}
    assert d["eligibility"]["pension_start_date"] == "2011-07-01"


def _ningxia_500_every_year():
    rows = [{"year": 2011, "tier": "500.00", "kind": "regular", "date": "2011-09-01"}]
    rows += [{"year": y, "tier": "500.00", "kind": "regular", "date": f"{y}-03-01"} for y in range(2012, 2026)]
    return {"birth_date": "1966-01-15", "hukou": {"type": "rural"}, "contributions": rows}


def test_ningxia_tier_500_2011_to_2025(determine):
    # §6: balance at pension start (2026-02-01) 9639.11, account pension 69.35,
    # total as of any date in 2026 from 2026-02-01: 322.35 (163 + 90 + 69.35).
    for as_of in ("2026-02-01", "2026-07-15", "2026-12-31"):
        d = determine("ningxia", as_of, _ningxia_500_every_year())
        assert d["eligibility"]["pension_start_date"] == "2026-02-01"
        assert d["account"]["balance_at_pension_start"] == "9639.11"
        components = {c["id"]: c["amount"] for c in d["monthly_pension"]["components"]}
        assert components["account_pension"] == "69.35"
        assert d["monthly_pension"]["total"] == "322.35"
