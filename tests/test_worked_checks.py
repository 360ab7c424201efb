"""domain.md §6: the worked checks any engine must agree with."""
from decimal import ROUND_HALF_UP, Decimal


def test_account_formula_without_interest():
    # §6: 15 × (500 + 60) = 8400.00 → account pension 60.43
    balance = 15 * (Decimal(500) + Decimal(60))
    assert (balance / 139).quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("60.43")


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
