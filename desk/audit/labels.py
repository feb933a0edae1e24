"""The words admins read for the audit log's action codes."""

AREA_LABELS = {
    "auth": "登录",
    "user": "账户",
    "demand": "需求",
    "complaint": "投诉",
    "escalation": "转人工",
    "customer": "企业用户",
    "consent": "隐私同意",
    "document": "材料",
    "calendar": "工作日历",
    "canned": "快捷回复",
    "knowledge": "知识库",
    "knowledge_draft": "知识草稿",
    "improvement": "整改",
}

ACTION_LABELS = {
    "auth.login": "登录成功",
    "auth.login_failed": "登录失败",
    "auth.login_locked": "登录被锁定",
    "auth.login_disabled": "停用账户尝试登录",
    "auth.logout": "退出登录",
    "auth.password_change": "修改密码",
    "user.create": "创建账户",
    "user.update": "修改账户",
    "user.password_reset": "重置密码",
    "user.deactivate": "停用账户",
    "user.reactivate": "启用账户",
    "demand.create": "新建需求",
    "demand.transition": "需求状态变更",
    "demand.evaluate": "服务评价",
    "complaint.create": "受理投诉",
    "complaint.transition": "投诉状态变更",
    "complaint.reissue_code": "重新发放查询码",
    "escalation.create": "转人工",
    "escalation.claim": "专家接入",
    "escalation.release": "交还智能助手",
    "escalation.assign": "指派专家",
    "escalation.transfer": "转给同事",
    "escalation.widen": "推送给全部专家",
    "escalation.requeue": "退回队列",
    "customer.create": "新建企业用户",
    "customer.update": "修改企业用户",
    "customer.link": "关联会话",
    "customer.unlink": "解除关联",
    "customer.review": "审核企业资料",
    "consent.record": "记录隐私同意",
    "document.upload": "上传材料",
    "calendar.set_day": "设置工作日",
    "calendar.complete_year": "补全年度日历",
    "canned.create": "新建快捷回复",
    "canned.delete": "删除快捷回复",
    "knowledge_draft.create": "保存知识草稿",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    area, _, verb = action.partition(".")
    return f"{AREA_LABELS.get(area, area)}：{verb}" if verb else AREA_LABELS.get(area, action)
