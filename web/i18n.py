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
    "paste_note": ("每行一年：年度、档次、类型（正常/补缴，可省）、缴费日期、集体补助（可省），以制表符分隔（从 Excel/WPS 复制即是）。"
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
    "editor_note": ("可以依次修改几个文件（政策文件和测试用例），切换文件不会丢失修改；提交时所有修改一起存为一份草稿：检查通过、测试通过，"
                    "并由另一名审核人批准后才发布，不会直接写入 policies/。离开页面前，未提交的修改会先询问。",
                    "Edit several files (policy files and test cases) one after another: switching files keeps your "
                    "edits, and submitting saves them all as one draft, published once it checks clean, its tests "
                    "pass and a second person approves it. Leaving the page with edits not submitted asks first."),
    "run_tests": ("运行测试用例", "Run test cases"), "checking": ("正在检查…", "Checking…"),
    "no_problems": ("未发现问题", "No problems found"), "passed": ("通过", "passed"), "failed": ("失败", "failed"),
    "hint": ("提示", "hint"), "open_tiers": ("可选档次", "Open tiers"), "period": ("期间", "Period"),
    "figure": ("数值", "Figure"), "changed": ("变更", "changed"), "not_found": ("未找到", "Not found"),
    "error": ("出错了", "Something went wrong"), "retry": ("请稍后重试。", "Please try again."),
    "empty_result": ("填写表单后点击“计算”，结果将显示在新页面，可打印或发送链接。",
                     "Fill in the form and press Calculate; the result opens on its own page to print or share."),
    # issue 32: every word of a Chinese page in Chinese
    "brand": ("居保", "jubao"), "nav": ("主导航", "main"),
    "years": ("年", "years"), "reasons": ("领取依据", "Why"), "per_month": ("（元/月）", " (yuan/month)"),
    "in_yuan": ("（元）", " (yuan)"), "yuan_month": ("元/月", "yuan/month"),
    "version_id": ("版本号", "Version"),
    "version_id_note": ("时间按服务所设时区显示（默认北京时间，由 `JUBAO_TIME_ZONE` 设置）。这里的版本号可直接用于比较两个版本：`GET /v1/regions/{地区}/diff?from=版本号`。",
                        "Times in the service's time zone (JUBAO_TIME_ZONE). A version as shown here can be given to "
                        "GET /v1/regions/{region}/diff?from=…"),
    "kind_value": ("数值", "value"), "kind_tiers": ("缴费档次表", "tiers"), "kind_subsidy": ("补贴表", "subsidy"),
    "kind_floor": ("补贴下限", "floor"), "kind_daijiao": ("政府代缴", "daijiao"), "kind_reward": ("奖励", "reward"),
    "kind_bonus": ("加发", "bonus"), "kind_raise": ("调待", "raise"), "kind_early_start": ("提前领取", "early start"),
    "kind_table": ("查找表", "table"), "unit_date": ("日期", "date"), "unit_yes_no": ("是/否", "yes/no"),
    "pays": ("承担", " pays"), "lowest_tier": ("最低档次", "the lowest tier"),
    "lowest_tier_share": ("最低档次的 ", "of the lowest tier: "), "only_for": ("仅限", "Only for"),
    "daijiao_groups": ("代缴对象", "代缴 groups"),
    "status_code": ("状态码", "Status"), "what_it_means": ("这是什么意思", "What this means"),
    "page_error": ("请求无法处理", "The request could not be handled"),
    "page_error_400": ("请求有误，无法处理", "The request is not valid"),
    "page_error_401": ("需要登录", "Sign in first"),
    "page_error_403": ("无权访问这个页面，或表单已过期：请刷新页面后重试", "Not allowed, or the form expired: reload the page"),
    "page_error_404": ("找不到这个页面：地址可能有误，或已被删除", "There is no such page: the address may be wrong"),
    "page_error_405": ("这个页面不接受这种请求方式", "This page does not take that method"),
    "page_error_413": ("提交的内容过大", "What was sent is too large"),
    "page_error_500": ("服务内部出错，已记录；请稍后重试", "Internal error, logged; please try again"),
    "problem_meaning": ("含义", "What it means"), "problem_fix": ("怎么办", "What to do"),
    "problem_about": ("接口出错时的回答（`problem+json`）中，`type` 指向这一页。",
                      "An API error answer (problem+json) names this page as its type."),
    "problem_title_400": ("请求格式错误", "Malformed request"),
    "problem_means_400": ("请求体不是有效的 JSON，或某个值的 JSON 类型不对（例如应为列表处给了对象）。`errors` 列出每个出错的值及其位置（JSON 指针）。",
                          "The body is not valid JSON, or a value has the wrong JSON type (an object where a list "
                          "belongs). `errors` lists each such value by its JSON pointer."),
    "problem_fix_400": ("按 `errors` 中的位置改正这些值的类型后重新发送；各字段的格式见 `/openapi.json`。",
                        "Correct the types at the pointers listed and send again; /openapi.json gives each field."),
    "problem_title_401": ("需要登录", "Authentication required"),
    "problem_means_401": ("这个操作需要已登录的用户，而请求没有带有效的令牌。", "This needs a signed-in user and the request "
                          "carried no valid token."),
    "problem_fix_401": ("发送 `Authorization: Bearer` 令牌（由运维人员用 `jubao users add` 发放），或在页面上登录。",
                        "Send Authorization: Bearer TOKEN (from jubao users add), or sign in on the pages."),
    "problem_title_403": ("无权操作", "Forbidden"),
    "problem_means_403": ("令牌有效，但这个角色或地区不允许这样操作（例如审核人以外的人批准草稿）。",
                          "The token is valid but its role or region does not allow this (e.g. approving a draft "
                          "without being a reviewer)."),
    "problem_fix_403": ("请有相应角色的人操作，或请管理员调整角色与地区。", "Ask someone with the role, or ask an admin to "
                        "change the role or regions."),
    "problem_title_404": ("未找到", "Not found"),
    "problem_means_404": ("没有这个地区、决定、草稿或接口。", "There is no such region, decision, draft or endpoint."),
    "problem_fix_404": ("检查地址中的地区名或编号；已有的地区见 `GET /v1/regions`，全部接口见 `/openapi.json`。",
                        "Check the region or id in the address; GET /v1/regions lists the regions, /openapi.json "
                        "every endpoint."),
    "problem_title_405": ("方法不允许", "Method not allowed"),
    "problem_means_405": ("这个接口不接受这种请求方法（例如对只能 `POST` 的接口发送 `GET`）。", "The endpoint does not take this "
                          "method (a GET where only POST is taken)."),
    "problem_fix_405": ("改用回答头 `Allow` 中列出的方法。", "Use a method listed in the Allow header of the answer."),
    "problem_title_409": ("冲突", "Conflict"),
    "problem_means_409": ("这个版本未通过检查或测试，或草稿所基于的版本已不是现行版本，所以没有发布。",
                          "The version does not check clean or its tests fail, or the draft was written on a version "
                          "that is no longer live; nothing was published."),
    "problem_fix_409": ("看回答中的 `diagnostics` 和 `tests`，改正后提交新草稿；草稿过时的，先变基到现行版本再审核。",
                        "Read the diagnostics and tests of the answer and submit a corrected draft; rebase a stale "
                        "draft on the live version first."),
    "problem_title_413": ("请求过大", "Request too large"),
    "problem_means_413": ("请求体超过了服务的上限（`JUBAO_MAX_BODY`，默认 `10 MiB`；未登录时政策原文另有上限）。",
                          "The body is over the service's limit (JUBAO_MAX_BODY, 10 MiB by default; policy text from "
                          "callers not signed in has its own)."),
    "problem_fix_413": ("把请求拆小（批量接口每次最多 `JUBAO_MAX_BATCH` 人），或登录后再检查较大的政策。",
                        "Split the request (the batch endpoint takes JUBAO_MAX_BATCH persons at a time), or sign in "
                        "to check larger policies."),
    "problem_title_415": ("不支持的媒体类型", "Unsupported media type"),
    "problem_means_415": ("请求体不是以 JSON 发送的（例如 `text/plain` 或表单）。", "The body was not sent as JSON (text/plain or a "
                          "form, say)."),
    "problem_fix_415": ("以 `Content-Type: application/json` 发送 JSON 请求体。", "Send the JSON body with Content-Type: "
                        "application/json."),
    "problem_title_422": ("请求内容无效", "Invalid request"),
    "problem_means_422": ("请求格式正确，但内容不成立：缺少必填项、日期不存在、档次不可选等。`errors` 列出每个出错的字段（JSON 指针）和原因。",
                          "The request is well formed but not valid: a required fact missing, a date that does not "
                          "exist, a tier not open… `errors` lists every such field by its JSON pointer, with why."),
    "problem_fix_422": ("按 `errors` 逐项改正后重新发送；各项规则见 `docs/rules.md`。", "Correct each field listed and send again; "
                        "docs/rules.md gives the rules."),
    "problem_title_500": ("内部错误", "Internal error"),
    "problem_means_500": ("服务内部出错；这次请求已记入日志。", "The service failed inside; the request was logged."),
    "problem_fix_500": ("稍后重试；如果一再出现，请把时间和请求告诉运维人员。", "Try again later; if it happens again, give the "
                        "operator the time and the request."),
    "problem_title_503": ("暂不可用", "Unavailable"),
    "problem_means_503": ("服务暂时无法回答：决定记录无法写入、政策未通过检查，或检查超时。", "The service cannot answer just "
                          "now: the decision log cannot be written, a policy does not check, or a check ran too long."),
    "problem_fix_503": ("按回答头 `Retry-After` 的秒数后重试。", "Try again after the seconds in the Retry-After header."),
}


def translator(lang: str):
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        pair = TEXTS.get(key)
        return pair[index] if pair else key

    return t
