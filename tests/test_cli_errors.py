"""contract.md Errors: every kind of bad input to `jubao eval` exits 2 with a problem object."""
import json

from tests.test_contract import jubao

GOOD = {"birth_date": "1960-03-05", "hukou": {"type": "rural"},
        "contributions": [{"year": 2015, "tier": "300.00", "kind": "regular", "date": "2015-03-01"}]}


def problem(person, region="national", as_of="2016-06-30", raw: str | None = None, lang: str | None = None):
    run = jubao("eval", "--region", region, "--as-of", as_of, "-", "--format", "json",
                *(("--lang", lang) if lang else ()),
                stdin=raw if raw is not None else json.dumps(person, ensure_ascii=False))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    body = json.loads(run.stdout)
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    return body["status"], sorted(e["pointer"] for e in body["errors"]), body


def with_(**changes):
    person = json.loads(json.dumps(GOOD))
    person.update(changes)
    return person


def test_good_person_exits_0():
    run = jubao("eval", "--region", "national", "--as-of", "2016-06-30", "-", "--format", "json",
                stdin=json.dumps(GOOD))
    assert run.returncode == 0, run.stderr


def test_unknown_region_is_404_with_no_field_errors():
    # contract.md: "404: unknown region; `errors` is `[]`."
    assert problem(GOOD, region="shanghai")[:2] == (404, [])


def test_malformed_json_is_400():
    status, pointers, _ = problem(None, raw='{"birth_date": "1960-03-05",')
    assert status == 400 and pointers == ["/person"]


def test_wrong_json_types_are_400_listing_only_those():
    # contract.md: "If any value has the wrong JSON type the answer is 400 listing those values only".
    person = with_(groups={"id": "dibao"}, birth_date=19600305,
                   contributions=[{"year": "2015", "tier": "300.00", "kind": "regular"}], bogus=1)
    status, pointers, _ = problem(person)
    assert status == 400
    assert pointers == ["/person/birth_date", "/person/contributions/0/year", "/person/groups"]


def test_bad_as_of_is_422_at_as_of():
    assert problem(GOOD, as_of="2016-02-30")[:2] == (422, ["/as_of"])


def test_every_invalid_field_is_listed_at_once():
    person = with_(groups=[{"id": "dibaoo", "from": "2015-01-01"},
                           {"id": "village_cadre", "from": "2015-01-01"},
                           {"id": "tekun", "from": "2016-01-01", "to": "2015-01-01"}],
                   death_date="1950-01-01", nickname="x",
                   contributions=[{"year": 2015, "tier": "-300", "kind": "regular"},
                                  {"year": 2016, "tier": "300.001", "kind": "regular"},
                                  {"year": 2017, "tier": "EXPONENT", "kind": "regular"},
                                  {"year": 2018, "tier": "300", "kind": "sometimes"}],
                   opening_balance={"amount": "10.00", "as_of": "2014-06-30"})
    raw = json.dumps(person).replace('"EXPONENT"', "3e2")  # a JSON number with an exponent
    status, pointers, body = problem(person, as_of="2019-06-30", raw=raw, lang="en")
    assert status == 422
    assert pointers == sorted([
        "/person/death_date", "/person/nickname",
        "/person/groups/0/id", "/person/groups/1/position", "/person/groups/2/to",
        "/person/contributions/0/tier", "/person/contributions/1/tier", "/person/contributions/2/tier",
        "/person/contributions/3/kind", "/person/opening_balance/as_of"])
    details = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert "did you mean 'dibao'?" in details["/person/groups/0/id"]
    assert "secretary, deputy, member" in details["/person/groups/1/position"]
    _, zh_pointers, zh_body = problem(person, as_of="2019-06-30", raw=raw)  # Chinese by default
    zh = {e["pointer"]: e["detail"] for e in zh_body["errors"]}
    assert zh_pointers == pointers and zh_body["detail"] == "参保人信息有误"
    assert "是否应为 'dibao'？" in zh["/person/groups/0/id"]
    assert "可选：secretary, deputy, member" in zh["/person/groups/1/position"]


def test_missing_required_fact_points_at_itself():
    person = with_()
    del person["birth_date"]
    assert problem(person)[:2] == (422, ["/person/birth_date"])


def test_birth_after_as_of():
    assert problem(with_(birth_date="2020-01-01", contributions=[]))[:2] == (422, ["/person/birth_date"])


def test_tier_not_open_names_the_open_tiers():
    # domain.md §2: "a tier not open to that person on the judging date (the message names the open tiers)"
    person = with_(contributions=[{"year": 2012, "tier": "600.00", "kind": "regular", "date": "2012-05-01"}])
    status, pointers, body = problem(person, lang="en")
    assert (status, pointers) == (422, ["/person/contributions/0/tier"])
    assert "open tiers: 100, 200, 300, 400, 500" in body["errors"][0]["detail"]
    assert "可选档次：100, 200, 300, 400, 500" in problem(person)[2]["errors"][0]["detail"]


def test_hukou_type_required_for_pilot_era_contribution():
    person = with_(hukou={}, contributions=[{"year": 2012, "tier": "100.00", "kind": "regular",
                                              "date": "2012-05-01"}])
    assert problem(person)[:2] == (422, ["/person/hukou/type"])


def test_text_format_prints_a_readable_message_and_exits_2():
    run = jubao("eval", "--region", "national", "--as-of", "2016-06-30", "-",
                stdin=json.dumps(with_(birth_date="1960-02-30")))
    assert run.returncode == 2
    assert "/person/birth_date" in run.stderr and "Traceback" not in run.stderr


def test_boolean_where_a_string_belongs_is_400():
    # Found by schemathesis: {"hukou": {"type": true}} once crashed the person reader.
    status, pointers, _ = problem(with_(hukou={"type": True, "county": False}))
    assert (status, pointers) == (400, ["/person/hukou/county", "/person/hukou/type"])
