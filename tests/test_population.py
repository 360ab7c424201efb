"""A synthetic Anhui population shaped like seed 000's end-2020 figures, as a sanity check.

Seed 000 (安庆, 2021), end 2020: 3490.09万 insured, 938.66万 receiving (27%),
average contribution 338 yuan/year, average pension 128 yuan/month (domain.md §3).
"""
import random
from decimal import Decimal

AS_OF = "2020-12-31"
# Tier mix giving an average contribution near 338 yuan (most residents pay the lowest tiers).
TIERS_PILOT = [(100, 0.50), (200, 0.20), (300, 0.10), (500, 0.20)]  # 新农保, rural, before 2014-02-21
TIERS_2014 = [(100, 0.45), (200, 0.20), (300, 0.10), (500, 0.15), (1000, 0.10)]
TIERS_2019 = [(200, 0.64), (300, 0.12), (500, 0.14), (1000, 0.10)]


def pick(rng: random.Random, weighted) -> int:
    return rng.choices([t for t, _ in weighted], [w for _, w in weighted])[0]


def synthetic_person(rng: random.Random, i: int) -> dict:
    if rng.random() < 0.27:
        # Receiving by end 2020: born 1935–1960.
        birth = rng.randint(1935, 1960)
    else:
        birth = rng.randint(1961, 2000)
    person = {"id": f"ah-{i}", "birth_date": f"{birth}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
              "hukou": {"type": "rural"}, "contributions": []}
    sixtieth = birth + 60
    for year in range(2012, 2021):  # Anhui's default scheme start is 2012-01-01
        if year >= sixtieth or year <= birth + 16 or rng.random() < 0.15:
            continue
        tier = pick(rng, TIERS_2019 if year >= 2019 else TIERS_2014 if year >= 2014 else TIERS_PILOT)
        person["contributions"].append({"year": year, "tier": f"{tier}.00", "kind": "regular",
                                        "date": f"{year}-03-15"})
    return person


def test_anhui_population_is_plausible(determine):
    rng = random.Random(338)
    results = [determine("anhui", AS_OF, synthetic_person(rng, i)) for i in range(1500)]
    paid = [Decimal(c["tier"]) for r in results for c in r["contributions"] if c["year"] == 2020]
    receiving = [Decimal(r["monthly_pension"]["total"]) for r in results if r["status"] == "receiving"]
    average_contribution = sum(paid) / len(paid)
    average_pension = sum(receiving) / len(receiving)
    share = len(receiving) / len(results)
    print(f"\nAnhui synthetic population, as of {AS_OF}: {len(results)} persons, "
          f"{len(receiving)} receiving ({share:.0%}); average 2020 contribution {average_contribution:.2f} yuan; "
          f"average pension {average_pension:.2f} yuan/month (seed 000: 338 and 128)")
    assert Decimal(300) <= average_contribution <= Decimal(380)
    # 2020: central 93 (from July) + Anhui 22 = 115 minimum; add-ons and small accounts on top.
    assert Decimal(115) <= average_pension <= Decimal(160)
    assert 0.20 <= share <= 0.35
