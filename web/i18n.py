"""Page texts in Chinese (default) and English; `?lang=en` switches."""
from __future__ import annotations

TEXTS = {
    "app": ("居保 · 城乡居民基本养老保险", "jubao · residents' basic pension"),
    "nav_calc": ("经办计算", "Calculate"), "nav_policy": ("政策查看", "Policies"), "nav_edit": ("政策编辑", "Edit policy"),
    "nav_api": ("接口文档", "API"), "format": ("格式化", "Format"),
    "fill_years": ("按年度批量填入：", "Fill years:"), "from_year": ("从", "from"), "to_year": ("至", "to"),
    "paid_on": ("缴费日（月-日）", "paid on (MM-DD)"), "fill": ("填入", "Fill"),
    "fill_bad": ("请填写起止年度（起不晚于止）、档次和缴费日（如 03-01）",
                 "give the first and last year (first ≤ last), the tier and the day paid (e.g. 03-01)"),
    "paste_rows": ("从表格粘贴缴费记录", "Paste contribution rows from a spreadsheet"),
    "paste_note": ("每行一年：年度、档次、类型（正常/补缴，可省）、缴费日期、集体补助（可省），以 Tab 分隔（从 Excel/WPS 复制即是）。"
                   "同一年度已有的行会被替换。",
                   "One year per line: year, tier, kind (regular/back payment, optional), date paid, collective "
                   "(optional), separated by tabs (as copied from Excel/WPS). A year already in the table is replaced."),
    "paste_import": ("导入", "Import"),
    "paste_bad": ("以下行无法识别（第一列须为四位年度）：", "lines not understood (the first column must be a year):"),
    "coverage": ("测试覆盖", "Test coverage"),
    "coverage_intro": ("本地区测试用例用到的条文（日期版本、表格行、公式）所占比例：",
                       "Share of this region's lines (dated versions, table rows, formulas) its test cases use:"),
    "cases": ("个用例", "cases"), "cases_failed": ("个失败", "failing"), "file": ("文件", "File"),
    "covered": ("已覆盖", "Covered"), "uncovered_lines": ("未覆盖的行", "Lines no case uses"),
    "not_covered": ("没有测试用例用到这一行", "no test case uses this line"),
    "covered_line": ("有测试用例用到", "used by a test case"), "api_docs": ("接口文档", "API reference"),
    "api_docs_intro": ("供其他系统调用的 JSON 接口：每个接口的请求、应答与示例，可在此页直接试用。机器可读的文档：",
                       "The JSON API for other systems: every endpoint's request, response and examples, to try "
                       "from this page. The machine-readable document:"),
    "region": ("地区", "Region"), "as_of": ("核定日期", "As-of date"), "person": ("参保人", "Person"),
    "groups": ("人员类别", "Groups"), "contributions": ("缴费记录", "Contributions"),
    "add_row": ("添加一行", "Add row"), "remove": ("删除", "Remove"), "submit": ("计算", "Calculate"),
    "calculating": ("正在计算…", "Calculating…"), "fix_errors": ("请更正以下内容：", "Please correct:"),
    "no_groups": ("无人员类别（可不填）", "No groups (optional)"),
    "no_contributions": ("尚无缴费记录（可不填）", "No contributions yet (optional)"),
    "group": ("类别", "Group"), "from": ("起", "From"), "to": ("止", "To"), "position": ("职务", "Position"),
    "year": ("年度", "Year"), "tier": ("档次（元）", "Tier (yuan)"), "kind": ("类型", "Kind"),
    "date": ("缴费日期", "Date"), "collective": ("集体补助（元）", "Collective (yuan)"),
    "regular": ("正常缴费", "regular"), "back_payment": ("补缴", "back payment"),
    "status": ("状态", "Status"), "monthly_pension": ("月养老金", "Monthly pension"),
    "component": ("项目", "Component"), "amount": ("金额（元/月）", "Amount (yuan/month)"),
    "central": ("中央", "central"), "province": ("省级", "province"), "city": ("市级", "city"),
    "county": ("县级", "county"), "personal": ("个人缴费", "Personal"), "government_paid": ("政府代缴", "Gov. paid"),
    "subsidy": ("缴费补贴", "Subsidy"), "credited": ("记入账户", "Credited"), "counted": ("计入年限", "Counted"),
    "account": ("个人账户", "Account"), "balance": ("账户余额", "Balance"),
    "balance_at_pension_start": ("领取时账户余额", "Balance at pension start"),
    "death": ("死亡待遇", "Death"), "funeral_grant": ("丧葬补助金", "Funeral grant"),
    "inheritable_balance": ("可继承余额", "Inheritable balance"),
    "tier_options": ("选档参考", "Tier options"), "tier_cost": ("个人负担", "Personal cost"),
    "why": ("为什么是这个金额", "Why this amount"), "source": ("依据", "Source"), "in_force": ("施行期", "In force"),
    "see_above": ("见上", "see above"),
    "line": ("政策条文", "Policy line"), "note": ("说明", "Note"), "unconfirmed": ("未确认数值", "Unconfirmed values"),
    "provisional": ("暂定值", "provisional"), "proposal": ("建议值", "proposal"), "law": ("法规", "law"),
    "seed": ("文献", "seed"), "eligibility": ("领取资格", "Eligibility"), "pension_start": ("领取起始日", "Pension start"),
    "required_years": ("应缴年限", "Required years"), "counted_years": ("已缴年限", "Counted years"),
    "print": ("打印", "Print"), "decision": ("核定结果", "Determination"), "decision_id": ("核定编号", "Decision id"),
    "receiving": ("领取中", "receiving"), "contributing": ("缴费中", "contributing"),
    "not_eligible": ("不符合领取条件", "not eligible"), "deceased": ("已死亡", "deceased"),
    "yes": ("是", "yes"), "no": ("否", "no"), "files": ("政策文件", "Policy files"),
    "timeline": ("变更时间线", "Timeline of changes"), "tables": ("各期数值", "Figures by period"),
    "provisional_list": ("暂定值与建议值", "Provisional and proposed values"), "none": ("无", "none"),
    "login": ("登录", "Sign in"), "logout": ("退出", "Sign out"), "login_failed": ("用户名或令牌不正确", "Wrong name or token"),
    "user_name": ("用户名", "User name"), "token": ("令牌", "Token"),
    "login_note": ("令牌由运维人员发放，命令：", "Tokens come from the operator, with the command"),
    "role_reader": ("查询", "reader"), "role_caseworker": ("经办", "caseworker"), "role_officer": ("政策经办", "officer"),
    "role_reviewer": ("审核", "reviewer"), "role_admin": ("管理员", "admin"),
    "versions": ("版本与审核", "Versions and review"), "time": ("时间", "Time"),
    "author": ("提交人", "Author"), "approved_by": ("批准人", "Approved by"), "message": ("说明", "Message"),
    "live": ("现行", "live"), "draft": ("草稿", "draft"), "published": ("已发布", "published"),
    "approve": ("批准发布", "Approve"),
    "rebase": ("变基到现行版本", "Rebase on live"),
    "rebase_hint": ("此草稿基于旧版本；把它的改动移到现行版本上，生成新草稿再审核",
                    "This draft was written on an older version: move its changes onto the live version as a new draft"), "rollback": ("回退到此版本", "Roll back to this"),
    "submit_draft": ("提交草稿", "Submit draft"), "login_to_submit": ("登录后可提交草稿", "Sign in to submit a draft"),
    "editor_note": ("修改先存为草稿：检查通过、测试通过，并由另一名审核人批准后才发布，不会直接写入 policies/。",
                    "Changes on this page are not saved to policies/ (publishing comes with the policy lifecycle). "
                    "You can check the text and run this region's test cases."),
    "run_tests": ("运行测试用例", "Run test cases"), "checking": ("正在检查…", "Checking…"),
    "no_problems": ("未发现问题", "No problems found"), "passed": ("通过", "passed"), "failed": ("失败", "failed"),
    "hint": ("提示", "hint"), "open_tiers": ("可选档次", "Open tiers"), "period": ("期间", "Period"),
    "figure": ("数值", "Figure"), "changed": ("变更", "changed"), "not_found": ("未找到", "Not found"),
    "error": ("出错了", "Something went wrong"), "retry": ("请稍后重试。", "Please try again."),
    "empty_result": ("填写表单后点击“计算”，结果将显示在新页面，可打印或发送链接。",
                     "Fill in the form and press Calculate; the result opens on its own page to print or share."),
}


def translator(lang: str):
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        pair = TEXTS.get(key)
        return pair[index] if pair else key

    return t
