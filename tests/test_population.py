"""A synthetic Anhui population shaped like seed 000's end-2020 figures, as a sanity check.

Seed 000 (安庆, 2021), end 2020: 3490.09万 insured, 938.66万 receiving (27%),
average contribution 338 yuan/year, average pension 128 yuan/month (domain.md §3).

Then `engine.populations.population`, the generator behind `jubao population`: every person it makes is valid in every
region (policies/ and tests/regions/), its tiers are open on their dates, a seed gives the same persons, and
Parquet, JSON Lines and CSV hold the same persons.
"""
import datetime as dt
import json
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from engine import read_as_of
from engine.populations import batch, population

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


# ── engine.populations.population: the generator of `jubao population` ────────────────
ROOT = Path(__file__).resolve().parent.parent
REGIONS = [("registry", p.name, "2020-12-31") for p in sorted((ROOT / "policies").iterdir()) if p.is_dir()]
CONSTRUCT_REGIONS = [("construct_registry", p.name, "2026-06-01")
                     for p in sorted((ROOT / "tests" / "regions").iterdir()) if p.is_dir()]


@pytest.mark.parametrize("fixture, region, as_of", REGIONS + CONSTRUCT_REGIONS)
def test_every_generated_person_is_valid_with_open_tiers_near_the_target(request, tmp_path, fixture, region, as_of):
    """`jubao batch` answers every person without an error; each tier is open to the person on its date; the
    mean contribution is what the weights aim at (338 yuan, or as near as each period's tiers allow)."""
    registry = request.getfixturevalue(fixture)
    policy = registry.policy(region)
    source = tmp_path / "people.parquet"
    assert population.write(policy, 2000, 5, read_as_of(as_of), source) == 2000
    summary = batch.run_batch(registry, region, as_of, source, tmp_path / "out.parquet", workers=1)
    assert summary.rows == 2000 and summary.errors == 0
    paid, aimed = [], []
    for person in pq.read_table(source).to_pylist():
        assert person["contributions"] == sorted(person["contributions"], key=lambda c: c["year"])
        for record in person["contributions"]:
            open_tiers = population._open_tiers(policy, person, dt.date.fromisoformat(record["date"]))
            assert Decimal(record["tier"]) in open_tiers, (person["id"], record)
            assert record["date"].startswith(str(record["year"])) and record["date"] < as_of
            weights = population._weights(tuple(open_tiers), 338.0)
            paid.append(float(record["tier"]))
            aimed.append(sum(w * float(t) for w, t in zip(weights, open_tiers)) / weights.sum())
    assert len(paid) > 1000
    mean, target = sum(paid) / len(paid), sum(aimed) / len(aimed)
    assert abs(mean - target) <= 0.05 * target, (mean, target)


def test_the_mean_contribution_approaches_the_target_where_the_tiers_allow_it(registry):
    persons = list(population.generate(registry.policy("ningxia"), 3000, seed=2, as_of=dt.date(2020, 12, 31)))
    paid = [Decimal(c["tier"]) for p in persons for c in p["contributions"]]
    assert Decimal(318) <= sum(paid) / len(paid) <= Decimal(358)
    high = list(population.generate(registry.policy("ningxia"), 3000, seed=2, as_of=dt.date(2020, 12, 31),
                                    mean_contribution=Decimal(600)))
    paid = [Decimal(c["tier"]) for p in high for c in p["contributions"]]
    assert Decimal(560) <= sum(paid) / len(paid) <= Decimal(640)


def test_a_seed_gives_the_same_persons_and_another_seed_others(registry):
    policy = registry.policy("yuxi")
    as_of = dt.date(2020, 12, 31)
    first = list(population.generate(policy, 500, seed=3, as_of=as_of))
    assert first == list(population.generate(policy, 500, seed=3, as_of=as_of))
    assert first != list(population.generate(policy, 500, seed=4, as_of=as_of))
    assert [p["id"] for p in first] == [f"yuxi-{i:08d}" for i in range(500)]
    shares = sum(p["hukou"]["type"] == "rural" for p in first) / len(first)
    assert 0.7 <= shares <= 0.9
    assert {p["hukou"]["county"] for p in first} > {"新平", "华宁"}  # areas drawn from the scheme-start table


def test_the_three_formats_hold_the_same_persons(registry, tmp_path, monkeypatch):
    """Parquet in row groups of CHUNK persons (workers of `jubao batch` read one each); JSON Lines exactly as
    json.dumps writes each person; flat CSV read back by `jubao batch` into the same rows."""
    monkeypatch.setattr(population, "CHUNK", 700)
    policy = registry.policy("yuxi")
    as_of = dt.date(2020, 12, 31)
    for suffix in ("parquet", "jsonl", "csv"):
        assert population.write(policy, 2000, 8, as_of, tmp_path / f"people.{suffix}") == 2000
    persons = list(population.generate(policy, 2000, seed=8, as_of=as_of))
    file = pq.ParquetFile(tmp_path / "people.parquet")
    assert [file.metadata.row_group(i).num_rows for i in range(file.metadata.num_row_groups)] == [700, 700, 600]
    assert file.read().to_pylist() == persons
    assert any(p["groups"] for p in persons)
    lines = (tmp_path / "people.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == [json.dumps(p, ensure_ascii=False) for p in persons]
    outputs = {}
    for suffix in ("parquet", "jsonl", "csv"):
        summary = batch.run_batch(registry, "yuxi", str(as_of), tmp_path / f"people.{suffix}", tmp_path / f"{suffix}.jsonl",
                            workers=1)
        assert summary.errors == 0
        outputs[suffix] = (tmp_path / f"{suffix}.jsonl").read_text(encoding="utf-8")
    assert outputs["csv"] == outputs["jsonl"] == outputs["parquet"]


def test_the_command_writes_the_persons_it_was_asked_for(tmp_path):
    target = tmp_path / "people.csv"
    run = subprocess.run([sys.executable, "-m", "engine.cli", "population", "--region", "anhui", "--size", "1234",
                          "--seed", "9", "-o", str(target)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"已写入 1,234 人：{target}"
    assert sum(1 for _ in batch.read_rows(target)) == 1234
