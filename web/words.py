"""The API's words in the asked language (issue 32: "the API's words in the asked language, Chinese by default").

- a problem as answered: its title in that language only, its `type` a page of this service that explains it
  (/problems/<status>), and in Chinese each field named by its label (参保起始日), never by its JSON id;
- `eligibility.reason_texts` beside the contract's `reasons` (canonical English, unchanged);
- `uses_unconfirmed[].text` on every answer.

Nothing here decides anything: it words what the engine answered.
"""
from __future__ import annotations

import re

from engine import Problem
from engine.language import Policy, answered

CJK = re.compile(r"[\u4e00-\u9fff]")

def problem_dict(problem: Problem, lang: str, root: str = "/", policy: Policy | None = None) -> dict:
    """The problem as answered in `lang`: title in that language, `type` this service's page of it, and in Chinese
    the fields of `policy`'s PERSON named by their labels."""
    shown = answered(problem.as_dict(lang), lang, root)
    if lang != "en" and policy is not None:
        names = field_names(policy)
        shown["detail"] = labelled(shown["detail"], names)
        shown["errors"] = [{**e, "detail": labelled(e["detail"], names)} for e in shown["errors"]]
    return shown


# ── fields by their labels ─────────────────────────────────────────────────
# The keys of groups and contribution records, as the caseworker's form names them (web/i18n.py)
RECORD_KEYS = {"from": "起日", "to": "止日", "date": "缴费日期", "year": "年度", "tier": "档次", "kind": "类型",
               "collective": "集体补助", "position": "职务", "amount": "金额", "id": "类别", "as_of": "核定日期"}
_NAMES: dict[str, dict[str, str]] = {}  # policy digest → id → label


def field_names(policy: Policy) -> dict[str, str]:
    """Every id a detail may name for `policy`, with its Chinese label: facts (scheme_start_date → 参保起始日),
    their choices (rural → 农村), groups and their positions (village_cadre → 村干部, secretary → 书记/主任)."""
    found = _NAMES.get(policy.digest)
    if found is None:
        found = {"as_of": "核定日期"}
        for name, fact in policy.facts.items():
            if fact.labels.zh:
                found[name] = fact.labels.zh
            found.update({value: label for value, label in fact.choices if label})
        for gid, group in policy.groups.items():
            if group.labels.zh:
                found[gid] = group.labels.zh
            found.update({value: label for value, label in group.choice_labels if label})
        if len(_NAMES) > 64:
            _NAMES.clear()
        _NAMES[policy.digest] = found
    return found


QUOTED = re.compile(r"'([A-Za-z_][\w.]*)'")
BARE = re.compile(r"(?<![\w.'/])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_]+)?)(?![\w'])")
RECORD = re.compile(r"\b(contributions|groups)/(\d+)\b")
RECORD_WORDS = {"contributions": "第 {n} 条缴费记录", "groups": "第 {n} 个人员类别"}


def labelled(text: str | None, names: dict[str, str]) -> str | None:
    """A Chinese detail with the ids it names replaced by their labels: 'village_cadre' → 「村干部」,
    scheme_start_date → 参保起始日, contributions/2 → 第 3 条缴费记录. What the caller typed and no id matches
    (an unknown group 'dibaoo') is left as it is."""
    if not text:
        return text

    def quoted(m: re.Match) -> str:
        label = names.get(m.group(1)) or RECORD_KEYS.get(m.group(1))
        return f"「{label}」" if label else m.group(0)

    text = QUOTED.sub(quoted, text)
    text = RECORD.sub(lambda m: RECORD_WORDS[m.group(1)].format(n=int(m.group(2)) + 1), text)
    text = BARE.sub(lambda m: names.get(m.group(1), m.group(0)), text)
    if not CJK.search(text):
        return text
    text = re.sub(r"(?<=[\u4e00-\u9fff」]), (?=\S)", "、", text)  # a list of labels: 农村、城镇
    return re.sub(r"(?<=[\u4e00-\u9fff」]) (?=[\u4e00-\u9fff「])", "", text)  # no space between Chinese words


# ── eligibility reasons ────────────────────────────────────────────────────
# engine.core.one_person words each route's reason in canonical English for `reasons` (and in Chinese only inside
# the explanation); the Chinese of each, as the explanation has it (tests/test_api_words.py holds the two together)
REASONS = [
    (re.compile(r"^pension_start_date given as a fact$"), lambda m, p: "待遇领取起始日由申报给定"),
    (re.compile(r"^aged (\d+)\+ at scheme start \(([\d-]+)\): basic pension without paying$"),
     lambda m, p: f"参保起始日（{m.group(2)}）已满 {m.group(1)} 周岁，不缴费直接领取基础养老金"),
    (re.compile(r"^required (\d+) contribution years met; pension from ([\d-]+)$"),
     lambda m, p: f"累计缴费满 {m.group(1)} 年，{m.group(2)} 起领取"),
    (re.compile(r"^not yet eligible: (\d+) contribution years required$"),
     lambda m, p: f"尚未满足领取条件：应缴 {m.group(1)} 年"),
    (re.compile(r"^(.+) aged (\d+)\+ without a pension draws the basic pension(?: \(([\d-]+) rule\))?$"),
     lambda m, p: "、".join(p.group_label(g.strip(), "zh") for g in m.group(1).split(","))
     + f"年满 {m.group(2)} 周岁未领取的，直接领取基础养老金" + (f"（{m.group(3)} 规定）" if m.group(3) else "")),
]


def reason_texts(reasons, policy: Policy, lang: str) -> list[str]:
    """`reasons` as a reader of `lang` reads them (English: as they are)."""
    if lang == "en":
        return list(reasons)
    out = []
    for reason in reasons:
        for pattern, words in REASONS:
            m = pattern.match(reason)
            if m:
                out.append(words(m, policy))
                break
        else:
            out.append(reason)
    return out


def unconfirmed_texts(uses, lang: str) -> list[str]:
    """Each unconfirmed figure a decision used, in words of `lang` (`value` stays the canonical English)."""
    return [u.value if lang == "en" else (u.text_zh or u.value) for u in uses]


def with_words(result: dict, decision, policy: Policy, lang: str) -> dict:
    """A DETERMINATION (contract JSON of `decision`) with its words added: reason_texts, uses_unconfirmed[].text."""
    result["eligibility"]["reason_texts"] = reason_texts(result["eligibility"]["reasons"], policy, lang)
    for entry, text in zip(result["uses_unconfirmed"], unconfirmed_texts(decision.uses_unconfirmed, lang)):
        entry["text"] = text
    return result
