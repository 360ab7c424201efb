"""Every diagnostic code of the checker, once: its title, what it means and how to fix it, Chinese first.

`jubao check --explain CODE` prints an entry (as `rustc --explain` does); docs/language.md quotes each
under a heading of its code (tests/test_language_doc.py holds the two together).
"""
from __future__ import annotations

import attrs


@attrs.frozen
class Entry:
    code: str
    title_zh: str
    title_en: str
    meaning_zh: str
    meaning_en: str
    wrong: str  # a policy excerpt that draws the diagnostic
    right: str  # the same excerpt, fixed

    def text(self, lang: str = "zh") -> str:
        head = f"[{self.code}] {self.title_zh} ({self.title_en})"
        meaning = f"{self.meaning_zh}\n{self.meaning_en}" if lang == "zh" else f"{self.meaning_en}\n{self.meaning_zh}"
        return (f"{head}\n\n{meaning}\n\n错误写法 (wrong):\n{_indent(self.wrong)}\n\n"
                f"正确写法 (right):\n{_indent(self.right)}\n")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").split("\n"))


_ENTRIES = (
    Entry("syntax", "语法错误", "syntax error",
          "这一行不符合政策语言的写法：关键字拼错、少了引号、表格行没有以 | 结尾等。提示会列出此处可以写的内容，"
          "关键字拼错时会给出最接近的关键字。",
          "The line does not follow the language: a misspelt keyword, a missing quote, a row without its closing '|'. "
          "The hint lists what may come here, and the closest keyword when one is misspelt.",
          "value x: 元\n  form 2019-01-01  1.00  cite 国发2014_8", "value x: 元\n  from 2019-01-01  1.00  cite 国发2014_8"),
    Entry("bad-date", "日期无效", "not a calendar date",
          "日期须写成 YYYY-MM-DD，且是日历上存在的日期（没有 2 月 30 日）。",
          "Dates are written YYYY-MM-DD and must exist on the calendar (there is no 30 February).",
          "  from 2019-02-30  1.00  cite 国发2014_8", "  from 2019-03-01  1.00  cite 国发2014_8"),
    Entry("encoding", "文件不是 UTF-8 文本", "not UTF-8 text",
          "政策文件须以 UTF-8 保存。用编辑器“另存为 UTF-8”后重新提交。",
          "Policy files are saved as UTF-8; save the file as UTF-8 and submit it again.",
          "（以 GBK 保存的文件）", "（以 UTF-8 保存的同一文件）"),
    Entry("too-deep", "表达式嵌套过深", "expression nested too deeply",
          "公式的括号层数太多，无法检查。把公式拆成几个 let，每个 let 一步。",
          "The formula nests too deeply to check; split it into several `let` lines, one step each.",
          "let x = ((((((((a))))))))  # 成千上万层", "let a1 = a + b\nlet x = a1 × 2"),
    Entry("missing-region", "文件没有写明所属地区", "the file names no region",
          "每个政策文件的第一行是 `region <文件夹名>`。",
          "Every policy file starts with `region <its folder>`.",
          "value x: 元\n  always 1 cite 国发2014_8", "region hebei\nvalue x: 元\n  always 1 cite 国发2014_8"),
    Entry("region-mismatch", "地区名与文件夹不符", "region does not match its folder",
          "文件在 policies/<地区>/ 下，`region` 后须写同一个地区名。",
          "A file under policies/<region>/ says `region <region>` with the same name.",
          "# policies/hebei/x.policy\nregion shanxi", "# policies/hebei/x.policy\nregion hebei"),
    Entry("unknown-region", "没有这个地区", "unknown region",
          "policies/ 下没有这个地区的文件夹。检查拼写，或新建文件夹并在文件开头写 `region <名> extends national`。",
          "No folder under policies/ has this name; check the spelling, or create the folder and start its files "
          "with `region <name> extends national`.",
          "region heebei extends national", "region hebei extends national"),
    Entry("unknown-name", "未知的名称", "unknown name",
          "用到的名称没有定义：数值、表、群体、事实、文献或函数。提示给出最接近的可用名称（只列此处可用的）。"
          "名称可以写英文名或中文标签。",
          "A name is used that nothing defines: a value, table, group, fact, source or function. The hint offers the "
          "closest name valid at that place. A name may be written as its id or its Chinese label.",
          "component c = centrl_basic_pension\n  cite 国发2014_8",
          "component c = central_basic_pension\n  cite 国发2014_8"),
    Entry("duplicate-definition", "重复定义", "defined twice",
          "同一地区内一个名称只能定义一次。一个数值的各个年份版本写在同一个定义下，而不是重复定义。",
          "A name is defined once per region; the dated versions of a value go under one definition.",
          "value x: 元\n  from 2019-01-01  1 cite a\nvalue x: 元\n  from 2020-01-01  2 cite a",
          "value x: 元\n  from 2019-01-01  1 cite a\n  from 2020-01-01  2 cite a"),
    Entry("type-mismatch", "类型不符", "wrong kind of value",
          "写的内容与此处要求的类型不一致：需要数字却写了文字，表格版本写了单个数值，公式里直接使用事实或表格，"
          "档次写成了区间等。提示说明此处应写什么。",
          "What is written is not the kind this place takes: text for a number, a single figure for a table, a fact "
          "or a table used in a formula, a tier written as a range. The hint says what belongs here.",
          "component c = v\n  cite a\n  when hukou.type", "component c = v\n  cite a\n  when hukou.type == rural"),
    Entry("unit-mismatch", "单位不符", "units do not match",
          "公式两边单位不同（元/月 与 元/年），月养老金组成项不是 元/月，或百分比被加到金额上。百分比只能相乘。",
          "The two sides of a formula have different units (元/月 and 元/年), a pension component is not in 元/月, or "
          "a percentage is added to an amount. A percentage multiplies.",
          "component c = central_basic_pension + 10%", "component c = central_basic_pension × 10%"),
    Entry("unknown-unit", "未知单位", "unknown unit",
          "单位可写 元、元/月、元/年、年、月、岁、%、date（日期）或 yes_no（是否）。",
          "Units are 元, 元/月, 元/年, 年, 月, 岁, %, date or yes_no.",
          "value x: 块/月", "value x: 元/月"),
    Entry("unknown-status", "未知的状态", "unknown status",
          "文献状态为 law（法规）、seed（文献）、proposal（建议值）或 provisional（暂定值）；引用时可加 provisional 或 proposal。",
          "A source's status is law, seed, proposal or provisional; a citation may add provisional or proposal.",
          "  always 1 cite 国发2014_8 tentative", "  always 1 cite 国发2014_8 provisional"),
    Entry("missing-citation", "缺少依据", "no citation",
          "每个版本和每个组成项都要注明依据：在行尾写 `cite <文献名>`，文献须先用 `source` 声明。",
          "Every version and every component cites a declared source: end the line with `cite <source>`.",
          "  from 2019-01-01  1.00", "  from 2019-01-01  1.00  cite 国发2014_8"),
    Entry("missing-figure", "缺少数值", "no figure",
          "单值定义的每个版本都要在日期后写出数值。",
          "Each version of a single-figure definition gives its figure after the dates.",
          "  from 2019-01-01  cite 国发2014_8", "  from 2019-01-01  22.00  cite 国发2014_8"),
    Entry("bad-period", "期间无效", "bad period",
          "`until` 的日期早于 `from` 的日期。交换两个日期或更正年份。",
          "The `until` date is before the `from` date; swap them or correct the year.",
          "  from 2019-01-01 until 2018-12-31  1 cite a", "  from 2018-01-01 until 2018-12-31  1 cite a"),
    Entry("overlapping-periods", "版本期间重叠", "versions overlap",
          "同一定义（对同一类人）的两个版本在某些日期同时有效。让前一个版本在后一个开始的前一天结束。",
          "Two versions of one definition (for the same persons) are in force on the same days; end the earlier one "
          "the day before the later one starts.",
          "  from 2019-01-01 until 2020-06-30  1 cite a\n  from 2020-01-01  2 cite a",
          "  from 2019-01-01 until 2019-12-31  1 cite a\n  from 2020-01-01  2 cite a"),
    Entry("gapped-periods", "版本期间有空档", "a gap between versions",
          "两个版本之间有日期没有任何版本有效。延长前一个版本，或提前后一个版本的开始日。",
          "Some days between two versions have no version in force; extend the earlier one or start the later one "
          "sooner.",
          "  from 2019-01-01 until 2019-06-30  1 cite a\n  from 2020-01-01  2 cite a",
          "  from 2019-01-01 until 2019-12-31  1 cite a\n  from 2020-01-01  2 cite a"),
    Entry("bad-table", "表格有误", "bad table",
          "表格需要表头行和至少一行数据；每行的格数与表头相同；列名是出资层级（中央 省 市 县）或 仅限。",
          "A table has a header row and at least one row; every row has as many cells as the header; columns are "
          "funding levels (中央 省 市 县) or 仅限.",
          "  | 档次 | 省 |\n  | 100 | 30 | 10 |", "  | 档次 | 省 | 市 |\n  | 100 | 30 | 10 |"),
    Entry("duplicate-tier", "档次重复", "a tier twice",
          "同一版本的档次表中一个档次只能出现一次。",
          "A tier appears once in a version of a tier table.",
          "  | 100 | 30 |\n  | 100 | 40 |", "  | 100 | 30 |\n  | 200 | 40 |"),
    Entry("falling-subsidy", "补贴随档次降低", "subsidy falls as the tier rises",
          "档次（或缴费额分段）越高，补贴不得越低。",
          "A higher tier (or band of amounts) gets at least the subsidy of a lower one.",
          "  | 100 | 30 |\n  | 200 | 20 |", "  | 100 | 30 |\n  | 200 | 40 |"),
    Entry("below-floor", "低于补贴下限", "below the subsidy floor",
          "地区档次表的地方补贴（中央以外各级之和）低于同期全国补贴下限。提高该档补贴。",
          "A tier's local subsidy (all levels but central) is below the national floor in force in its period; raise "
          "it.",
          "  | 500 | 50 |   # 2014-02-21 起下限 60", "  | 500 | 60 |"),
    Entry("overlapping-bands", "分段重叠", "bands overlap",
          "年龄或年限分段互相重叠。前一段在后一段开始前结束。",
          "Two bands (of age or years) overlap; end the earlier band before the next one starts.",
          "  | 65-70 | 10 |\n  | 70+ | 15 |", "  | 65-69 | 10 |\n  | 70+ | 15 |"),
    Entry("gapped-bands", "分段有空档", "a gap between bands",
          "某些年龄、年限或缴费额没有任何分段覆盖。区间缴费的第一段须从区间的最低额开始。",
          "Some ages, years or amounts fall in no band; in a range of amounts the first band starts at the range's "
          "lowest amount.",
          "  from 2024-01-01  1000-9000  cite a\n  | 缴费额 | 省 |\n  | 2000+ | 60 |",
          "  from 2024-01-01  1000-9000  cite a\n  | 缴费额 | 省 |\n  | 1000+ | 40 |\n  | 2000+ | 60 |"),
    Entry("bad-range", "缴费区间有误", "bad range of amounts",
          "区间缴费：区间写在版本行上（两端都含），`step` 须整除区间；表中每段以最低额为键（`2000+`），"
          "各段都在区间内；没有区间的档次表不能用分段。",
          "A range of free amounts is given on the version line (both bounds included); a `step` divides it; each band "
          "is keyed by its lowest amount (`2000+`) inside the range; a tier table without a range has no bands.",
          "  from 2024-01-01  cite a\n  | 缴费额 | 省 |\n  | 1000+ | 40 |",
          "  from 2024-01-01  1000-9000  cite a\n  | 缴费额 | 省 |\n  | 1000+ | 40 |"),
    Entry("bad-cap", "年限上限有误", "bad cap in years",
          "`at most N years`（`最多 N 年`）只能写在按缴费年度发放的块上（tiers、subsidy、reward），N 是正整数。",
          "`at most N years` (`最多 N 年`) goes on a block paid per contribution year (tiers, subsidy, reward); N is a "
          "positive whole number.",
          "value 某项标准: 元/月  at most 15 years", "subsidy 县级补贴  at most 15 years"),
    Entry("cycle", "公式循环引用", "formulas depend on each other",
          "几个公式互相引用，无法计算。其中一个不能再用另一个。",
          "Formulas use each other in a loop; one of them must stop using the other.",
          "let a = b + 1\nlet b = a + 1", "let a = v + 1\nlet b = a + 1"),
    Entry("bad-test-file", "测试用例文件无法读取", "the test case file cannot be read",
          "tests/*.yaml 不是有效的 YAML：检查缩进、引号和冒号。",
          "A tests/*.yaml file is not valid YAML: check the indentation, quotes and colons.",
          "cases:\n  - name: \"x\n    as_of: 2024-01-01", "cases:\n  - name: \"x\"\n    as_of: \"2024-01-01\""),
    Entry("no-tests", "没有测试用例", "no test cases",
          "地区的 tests/ 文件夹中没有任何用例，无法证明这一版计算出什么，因此不能审批。",
          "The region's tests/ folder holds no case: nothing shows what this version computes, so it cannot be "
          "approved.",
          "policies/<地区>/tests/（空）", "policies/<地区>/tests/cases.yaml（至少一个用例）"),
)

CATALOGUE: dict[str, Entry] = {e.code: e for e in _ENTRIES}


def explain(code: str, lang: str = "zh") -> str | None:
    entry = CATALOGUE.get(code)
    return entry.text(lang) if entry else None
