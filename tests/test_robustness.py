"""Any person of any region, any as-of date 2009–2026: a determination or a clear problem, never a crash."""
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import InvalidInput, evaluate, problem_of, read_as_of, read_person

GROUPS = ["severe_disability", "dibao", "tekun", "poverty_registered", "returned_to_poverty",
          "family_planning_special", "only_child_family", "two_daughter_family", "village_cadre",
          "land_expropriated"]
COUNTIES = ["红塔", "江川", "通海", "华宁", "易门", "峨山", "新平", "元江", "澄江", "明光", "红塔区"]
TIERS = ["100.00", "200.00", "300.00", "500.00", "1000.00", "1500.00", "2000.00", "3000.00", "5000.00", "250"]


def dates(lo=1930, hi=2030):
    return st.dates(dt.date(lo, 1, 1), dt.date(hi, 12, 31)).map(dt.date.isoformat)


@st.composite
def persons(draw):
    person = {"birth_date": draw(dates(1935, 2012))}
    if draw(st.booleans()):
        person["hukou"] = {k: v for k, v in {"type": draw(st.sampled_from(["rural", "urban", None])),
                                              "county": draw(st.sampled_from(COUNTIES + [None]))}.items()}
    if draw(st.booleans()):
        person["scheme_start_date"] = draw(dates(2009, 2014))
    if draw(st.integers(0, 4)) == 0:
        person["death_date"] = draw(dates(2009, 2026))
    if draw(st.integers(0, 6)) == 0:
        person["pension_start_date"] = draw(dates(2009, 2026))
    groups = []
    for gid in draw(st.lists(st.sampled_from(GROUPS), max_size=3)):
        g = {"id": gid, "from": draw(dates(2005, 2026))}
        if gid == "village_cadre":
            g["position"] = draw(st.sampled_from(["secretary", "deputy", "member"]))
        if draw(st.booleans()):
            g["to"] = draw(dates(2005, 2030))
        groups.append(g)
    person["groups"] = groups
    records = []
    for year in draw(st.lists(st.integers(2008, 2027), max_size=8)):
        r = {"year": year, "tier": draw(st.sampled_from(TIERS)),
             "kind": draw(st.sampled_from(["regular", "regular", "back_payment"]))}
        if draw(st.booleans()):
            r["date"] = draw(dates(year, year + 2))
        if draw(st.integers(0, 3)) == 0:
            r["collective"] = draw(st.sampled_from(["0.00", "50.00", "12.5"]))
        records.append(r)
    person["contributions"] = records
    if draw(st.integers(0, 5)) == 0:
        person["opening_balance"] = {"amount": "1000.00", "as_of": f"{draw(st.integers(2009, 2020))}-12-31"}
    return person


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(region=st.sampled_from(["national", "anhui", "ningxia", "yuxi"]), as_of=dates(2009, 2026),
       person=persons(), explain=st.booleans())
def test_determination_or_clear_problem(registry, region, as_of, person, explain):
    policy = registry.policy(region)
    day = read_as_of(as_of)
    try:
        result = evaluate(policy, read_person(policy, person, day), day, explain=explain)
    except InvalidInput as error:
        problem = problem_of(error)
        assert problem.status in (400, 422)
        assert problem.errors, problem.detail
        for error in problem.errors:
            assert error.pointer.startswith("/person") and error.detail
        return
    assert result.status in ("receiving", "contributing", "not_eligible", "deceased")
