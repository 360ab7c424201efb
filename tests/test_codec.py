"""web.codec: orjson where it can, the standard library where it cannot, the same JSON either way."""
import datetime as dt
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from web.codec import dumps

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(
    blacklist_categories=("Cs",))), lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20)


@given(JSON)
def test_reads_back_as_the_standard_library_writes_it(value):
    assert json.loads(dumps(value)) == json.loads(json.dumps(value, ensure_ascii=False))


def test_money_dates_and_chinese():
    out = dumps({"total": Decimal("322.35"), "as_of": dt.date(2026, 3, 1), "名称": "宁夏基础养老金"})
    assert json.loads(out) == {"total": "322.35", "as_of": "2026-03-01", "名称": "宁夏基础养老金"}
    assert "宁夏".encode() in out  # not \\u-escaped


def test_an_integer_beyond_64_bits_falls_back_to_the_standard_library():
    assert json.loads(dumps({"n": 10 ** 30})) == {"n": 10 ** 30}
