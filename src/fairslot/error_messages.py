"""The Chinese message of every refusal code (``detail_zh``), in one catalogue.

A refusal raised with its own ``detail_zh`` (one that names a figure or a date) keeps it;
any other is given the catalogue's message by the one handler that renders refusals
(``api/errors.py``). ``tests/unit/test_error_messages.py`` walks every ``code=`` literal
and error class in ``src/`` and fails when a code has no Chinese here or at its raise site.
Each message says what happened and what the person can do next.
"""

from __future__ import annotations

from typing import Final

MESSAGES: Final[dict[str, str]] = {
    # generic classes and the handler's own codes
    "error": "请求未能完成，请稍后重试；如仍失败，请联系客服。",
    "not_found": "请求的内容不存在，请检查后重试。",
    "invalid_input": "请求中的内容有误，请检查后重新提交。",
    "unauthorized": "需要有效的凭证，请检查后重试。",
    "forbidden": "您无权进行此操作。",
    "conflict": "请求与其他更改冲突，未做任何修改。请刷新后重试。",
    "invalid_request": "请求格式有误（缺少字段或字段取值不正确），请按接口文档检查后重新提交。",
    "invalid_value": "请求中有数值超出允许范围，请检查后重新提交。",
    "busy": "平台繁忙，本次请求未做任何修改，请稍后重试。",
    "body_too_large": "请求内容过大，请缩小后重试。",
    "http_error": "请求未能完成，请检查后重试。",
    "method_not_allowed": "该地址不支持此请求方法，可用的方法见 Allow 响应头。",
    "rate_limited": "请求过于频繁，请稍后再试。",
    "request_blocked": "本次请求无法办理。如有疑问，请携带身份证件到医院窗口或联系客服。",
    # credentials
    "account_required": "请提供发起请求的账户编号（account_id）后重试。",
    "channel_key_missing": "缺少渠道密钥：请在 X-Channel-Key 请求头中提供渠道密钥。",
    "channel_key_invalid": "渠道密钥无效或已停用，请核对密钥，或联系平台获取新密钥。",
    "hospital_key_missing": "缺少医院密钥：请在 X-Hospital-Key 请求头中提供医院密钥。",
    "hospital_key_invalid": "医院密钥无效或已更换，请核对密钥，或联系平台获取新密钥。",
    "staff_token_missing": "请先登录，再在 Authorization 请求头中提供令牌。",
    "staff_token_invalid": "登录已过期或令牌无效，请重新登录。",
    "staff_account_required": "此操作需要工作人员本人登录，请用个人账户登录后重试。",
    "role_required": "您的岗位角色无权进行此操作，如需开通请联系信息科管理员。",
    "csrf_failed": "页面已过期，请刷新页面后重新提交。",
    "sign_in_required": "请先登录。",
    "login_failed": "用户名或密码不正确，请重新输入。",
    "sign_in_throttled": "登录失败次数过多，请稍后再试。",
    "sign_in_busy": "登录请求较多，请稍等片刻后重试。",
    # hospitals, departments, sessions, slots
    "hospital_not_found": "没有该医院，请从医院列表中重新选择。",
    "hospital_exists": "该医院代码已存在，请换一个代码。",
    "invalid_hospital": "医院信息有误，请检查后重新提交。",
    "invalid_hospital_code": "医院代码只能包含字母、数字、连字符和下划线，请修改后重试。",
    "invalid_days_ahead": "放号天数超出允许范围，请修改后重试。",
    "invalid_close_minutes": "停止预约的提前分钟数超出允许范围，请修改后重试。",
    "invalid_intent_lead": "摇号登记的提前分钟数超出允许范围（0 至 7 天），请修改后重试。",
    "invalid_release_time": "放号时间须为 HH:MM 格式的有效时间，请修改后重试。",
    "invalid_timezone": "时区名称无效，请使用如 Asia/Shanghai 的时区名称。",
    "department_not_found": "没有该科室，请从科室列表中重新选择。",
    "session_not_found": "该出诊时段不存在或尚未开放预约，请重新选择时段。",
    "session_not_open": "该出诊时段现在不能预约（尚未放号、已停诊或已截止），请选择其他时段。",
    "slot_not_found": "该号源不存在或尚未放号，请刷新后重新选择。",
    "slot_unavailable": "该号源当前不可预约，请选择其他号源。",
    "slot_taken": "该号源已被预约，请选择其他号源。",
    "session_full": "该时段号源已约满，可选择其他时段或加入候补。",
    "booking_closed": "该时段已停止预约，请选择其他时段。",
    "wrong_hospital": "该出诊时段不属于贵院，请核对时段编号。",
    "schedule_invalid": "排班数据有误，请按错误列表修改后重新推送。",
    "schedule_too_large": "排班数据过大，请分批推送。",
    "slot_not_withdrawable": "该号源已使用，不能撤回。",
    "invalid_date_range": "日期范围有误：结束日期不能早于开始日期，且一次最多查询 31 天。",
    "invalid_limit": "返回条数超出允许范围，请修改后重试。",
    "preview_expired": "预览已过期，请重新上传排班文件。",
    "preview_mismatch": "排班文件在预览后已更改，请重新预览后再导入。",
    # patients and accounts
    "account_not_found": "没有该账户，请先注册账户。",
    "invalid_resident_id": "身份证号码无效，请按证件核对 18 位号码（最后一位可为 X）后重新输入。",
    "invalid_phone": "手机号码无效，请输入 11 位手机号码，例如 13812345678。",
    "invalid_name": "姓名有误，请按证件填写患者姓名。",
    "invalid_patient_detail": "就诊人信息有误，请检查后重新提交。",
    "invalid_insurance_card": "医保卡号有误，请按卡面核对后重新输入。",
    "invalid_external_ref": "外部编号有误，请检查后重新提交。",
    "invalid_relation": "与账户持有人的关系无效，请从选项中选择。",
    "phone_account_limit": "该手机号码绑定的账户已达上限，请使用已有账户。",
    "binding_limit": "该账户绑定的就诊人已达上限，请先解绑不再使用的就诊人。",
    "identity_mismatch": "证件与就诊人不一致，请出示就诊人本人的身份证件。",
    "patient_has_bookings": "该就诊人仍有未完成的预约，请先取消或完成后再解绑。",
    "patient_not_bound": "该就诊人未绑定到此账户，请先绑定就诊人。",
    "patient_not_found": "没有该就诊人，请先绑定就诊人。",
    "invalid_end_user_ip": "X-End-User-IP 请求头不是有效的 IP 地址，请检查后重试。",
    # bookings
    "booking_not_found": "没有该预约，请核对预约编号。",
    "not_your_booking": "该预约不属于此账户，请用预约时的账户查询。",
    "booking_refused": "不符合预约规则，请查看说明后选择其他号源。",
    "booking_conflict": "该就诊人已有同一天同一科室的预约，或号源已被他人预约，请刷新后重新选择。",
    "booking_not_cancellable": "该预约已结束或已取消，无需再取消。",
    "booking_not_confirmed": "该预约尚未支付确认，不能办理此操作。",
    "state_conflict": "预约状态已变化，请刷新后重试。",
    "hold_not_active": "该锁号已不在待支付状态，请刷新查看预约状态。",
    "hold_expired": "锁号已超时，请重新选择号源。",
    "payment_required": "请提供支付账户和支付流水号后重试。",
    "check_in_outside_session": "不在该时段的签到时间内，请在就诊当天的出诊时间前后签到。",
    "session_not_over": "该时段尚未结束，结束后才能登记爽约。",
    # draws (allocation)
    "draw_not_found": "没有该摇号，请核对摇号编号。",
    "intent_not_found": "没有该摇号登记，请核对登记编号。",
    "not_your_intent": "该摇号登记不属于此账户。",
    "intent_window_closed": "当前不在摇号登记时间内，请在登记开放期间再试。",
    "not_a_draw_session": "该时段按先到先得预约，不需摇号登记，请直接预约。",
    "batch_entry_not_found": "没有该放号批次登记，请核对登记编号。",
    "release_batch_drawing": "放号批次正在抽签，请几秒后再试；剩余号源随后开放预约。",
    "scarce_release_cannot_race": "该科室号源紧俏，放号时须统一抽签，不能设为先到先得。",
    "batch_window_out_of_range": "放号批次时长须在 10 至 300 秒之间。",
    "intent_not_withdrawable": "摇号已进行或登记已撤回，不能再撤回。",
    "intent_not_held": "该登记未处于审核中，无需放行或驳回；请刷新页面查看其当前状态。",
    "seed_mismatch": "摇号种子与公布的承诺不符，摇号未进行，请联系平台技术支持。",
    # waitlist
    "waitlist_entry_not_found": "没有该候补登记，请核对候补编号。",
    "not_your_waitlist_entry": "该候补登记不属于此账户。",
    "session_not_full": "该时段仍有号源，请直接预约，无需候补。",
    "waitlist_conflict": "候补状态已变化，请刷新后重试。",
    "waitlist_disabled": "候补功能当前未开放，请选择其他时段。",
    "already_waiting": "该就诊人已在此时段的候补名单中，无需重复登记。",
    "waitlist_entry_not_waiting": "该候补已结束（已预约、已撤回或已关闭），不能再撤回。",
    # channels
    "channel_exists": "该渠道代码已存在，请换一个代码。",
    "channel_not_found": "没有该渠道，请核对渠道代码。",
    "channel_inactive": "该渠道已停用。",
    "invalid_channel": "渠道信息有误，请检查后重新提交。",
    "invalid_channel_code": "渠道代码只能包含字母、数字、连字符和下划线，请修改后重试。",
    "invalid_channel_name": "渠道名称不能为空且不能过长，请修改后重试。",
    "invalid_reserve_return": "预留号源的归还时间有误，请修改后重试。",
    "invalid_reserved_share": "预留比例须在允许范围内，请修改后重试。",
    "reserved_share_too_high": "各渠道预留比例之和过高，请降低预留比例。",
    # staff, review, calls, blacklist, reports
    "staff_not_found": "没有该工作人员账户。",
    "invalid_username": "用户名只能包含字母、数字、点、连字符和下划线，请修改后重试。",
    "username_taken": "该用户名已被使用，请换一个。",
    "password_too_short": "密码太短，请设置更长的密码。",
    "password_unchanged": "新密码不能与当前密码相同。",
    "current_password_wrong": "当前密码不正确，请重新输入。",
    "roles_required": "请至少选择一个岗位角色。",
    "own_roles": "不能修改自己的岗位角色，请由其他信息科管理员操作。",
    "own_account": "不能停用自己的账户，请由其他信息科管理员操作。",
    "last_it_admin": "这是最后一个在用的信息科管理员账户，不能停用或移除其角色。",
    "reason_required": "请填写操作原因。",
    "case_not_found": "没有该案件，请核对案件编号。",
    "case_conflict": "案件状态已变化，请刷新后重试。",
    "case_changed": "该案件已被他人更新，请刷新后重试。",
    "case_evidence_changed": "您查看后该案件又加入了新的预警，请重新查看后再作决定。",
    "case_closed": "该案件已结案。",
    "case_not_taken": "请先领取该案件再处理。",
    "case_not_yours": "该案件由其他审核员处理中。",
    "case_lock_lapsed": "您对该案件的锁定已过期，请重新领取。",
    "case_transition_not_allowed": "案件当前状态不允许此操作，请刷新后查看。",
    "calls_already_made": "该案件已请求过回访，请等待回访结果。",
    "no_patient_to_call": "该案件没有可回访的就诊人。",
    "question_required": "请填写需要回访核实的问题。",
    "scope_has_no_identifiers": "所选范围没有可拉黑的标识，请选择其他范围。",
    "scopes_required": "请至少选择一个拉黑范围。",
    "unknown_scope": "拉黑范围无效，请从选项中选择。",
    "invalid_review_input": "审核内容有误，请检查后重新提交。",
    "invalid_days": "天数超出允许范围，请修改后重试。",
    "queue_empty": "目前没有待处理的任务。",
    "call_not_found": "没有该回访任务。",
    "call_conflict": "回访任务状态已变化，请刷新后重试。",
    "call_changed": "该回访任务已被他人更新，请刷新后重试。",
    "call_done": "该回访任务已完成。",
    "call_not_taken": "请先领取该回访任务再处理。",
    "call_not_yours": "该回访任务由其他客服处理中。",
    "call_lock_lapsed": "您对该回访任务的锁定已过期，请重新领取。",
    "call_transition_not_allowed": "回访任务当前状态不允许此操作，请刷新后查看。",
    "invalid_call_input": "回访内容有误，请检查后重新提交。",
    "entry_not_found": "没有该黑名单记录。",
    "already_blocked": "该标识已在黑名单中。",
    "already_lifted": "该黑名单记录已解除。",
    "check_required": "请填写现场核验了哪些证件。",
    "invalid_identifier": "标识格式有误，请检查后重新输入。",
    "report_not_found": "该日期尚未运行风险筛查，请先运行筛查。",
    "metrics_days_invalid": "天数超出允许范围，请修改后重试。",
    "metrics_period_invalid": "统计区间有误，请修改后重试。",
    # the patient pages: sign-in and the call for help
    "code_refused": "验证码无效、已过期或已使用，请重新获取验证码。",
    "sms_unavailable": "短信暂时无法发送，请稍后再试。",
    "pages_channel_missing": "预约页面暂不可用，请稍后再试或联系医院。",
    "help_already_asked": "您已提交过求助，客服会尽快与您联系。",
    # payments
    "payment_provider_invalid": "支付方式配置有误，请联系平台技术支持。",
    "payment_order_not_found": "没有该支付订单，请返回预约页面重新支付。",
    "payment_signature_invalid": "支付回调签名无效，已拒绝。",
    "payment_amount_mismatch": "支付金额与订单金额不符，已拒绝，款项将原路退回。",
    "payment_order_closed": "该支付订单已结束，请返回预约页面查看预约状态。",
    "payment_hold_lapsed": "锁号已超时，本次支付将原路退回，请重新选择号源。",
    # the FHIR adapter (fhir/): requests it cannot read as FHIR
    "fhir_invalid": "FHIR 请求内容有误，请按 CapabilityStatement（/fhir/metadata）检查后重新提交。",
    "fhir_not_found": "没有该 FHIR 资源，或您无权查看，请检查资源编号后重试。",
    "fhir_account_missing": "请在 X-Account-Id 请求头中提供代为操作的账户编号。",
    "fhir_id_invalid": "资源编号应为正整数，请检查后重试。",
    "fhir_reference_invalid": "资源引用格式有误，请使用“资源类型/编号”的形式。",
    "fhir_search_parameter_missing": "缺少必需的查询参数，请按 /fhir/metadata 中的说明补充后重试。",
    "fhir_date_invalid": "日期格式有误，请使用 FHIR 日期（如 2026-11-25 或带前缀 ge2026-11-25）。",
    "fhir_update_unsupported": (
        "预约只能通过将状态改为 cancelled 来取消，其他内容不能修改；改约请重新查询并锁号。"
    ),
    "fhir_parameter_invalid": "操作参数有误（缺少或重复），请检查后重新提交。",
    "fhir_find_needs_actor": (
        "请指明查询范围：医生（practitioner）或医院（organization，可加 specialty）。"
    ),
    "fhir_patient_missing": "请指明就诊人：在 $find 或 $hold 中提供 patient-reference。",
    "fhir_format_unsupported": (
        "不支持所请求的响应格式：请使用 _format=json 或 xml"
        "（application/fhir+json、application/fhir+xml）。"
    ),
    "fhir_media_type_unsupported": (
        "不支持该请求体格式：请以 application/fhir+json 或 application/fhir+xml 提交。"
    ),
    "payment_not_payable": "该预约当前不能支付，请刷新查看预约状态。",
    "preauthorisation_unavailable": (
        "本网站暂不能通过您的支付方式预授权，无法登记摇号或候补；"
        "请在放号时直接预约，或通过其他渠道登记。"
    ),
    # operations: the Prometheus endpoint
    "metrics_token_required": ("监控指标接口需要运维令牌（Bearer），请在抓取配置中填写后重试。"),
}


def chinese(code: str) -> str | None:
    """The catalogue's Chinese message for ``code``, if it has one."""
    return MESSAGES.get(code)
