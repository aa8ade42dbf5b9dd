"""What each audit action and outcome means, in Chinese, for the auditors' room and the export.

The codes are the stable identifiers the log stores (and a machine filters on); the labels are
for people. An action missing here still shows, as its code, so a new action is never hidden.
Grouped as the auditors' filter lists them.
"""

from __future__ import annotations

from xinyong.accounts.roles import Role

ACTION_GROUPS: dict[str, dict[str, str]] = {
    "查阅与查询": {
        "subject.read": "查阅信用主体",
        "subject.search_id": "按证件号码查询主体",
        "record.read": "查阅信用记录",
        "record.export": "导出信用记录",
        "batch.read": "查阅报送回执或退回数据",
        "check.read": "查阅核查结果",
        "report.issue": "出具信用报告",
        "audit.export": "导出审计日志",
        "audit.search": "按主体查询审计日志",
    },
    "数据报送": {
        "batch.ingest": "报送数据（入库）",
        "record.new": "新增记录",
        "record.withdraw": "撤回记录",
        "subject.link": "关联待关联记录",
        "daily.run": "执行每日任务",
    },
    "联合奖惩": {
        "check.run": "联合奖惩核查",
        "check.bulk": "批量核查",
        "check.feedback": "反馈措施实施情况",
    },
    "名单": {
        "list.prior_notice": "发出列入前告知",
        "list.entered": "列入名单",
        "list.changed": "变更名单信息",
        "list.exit": "提前移出名单",
        "list.exited": "名单期满移出",
        "list.refused": "名单办理被拒绝",
    },
    "异议、修复与举报": {
        "case.filed": "受理办件",
        "case.started": "开始办理",
        "case.assigned": "分派办件",
        "case.transferred": "转办",
        "case.note": "办件备注",
        "case.paused": "中止计时",
        "case.resumed": "恢复计时",
        "case.material_requested": "要求补正材料",
        "case.material_received": "收到补正材料",
        "case.closed": "办结",
        "case.refused": "办件操作被拒绝",
        "record.objection": "记录标注异议",
        "record.objection_closed": "异议办结",
        "record.repaired": "信用修复完成",
    },
    "账号与权限": {
        "account.login": "登录",
        "account.logout": "退出登录",
        "account.create": "创建账号",
        "account.register": "自助注册",
        "account.disable": "停用账号",
        "account.enable": "启用账号",
        "account.password": "修改或重置密码",
        "account.password.own": "修改本人密码",
        "token.issue": "签发接口令牌",
        "token.revoke": "吊销接口令牌",
        "authorisation.grant": "主体授权查询",
        "authorisation.record": "登记纸质授权",
        "authorisation.revoke": "撤销授权",
        "department.add": "登记报送部门",
        "department.update": "修改报送部门",
        "department.disable": "停用报送部门",
        "department.enable": "启用报送部门",
        "access.denied": "访问被拒绝",
    },
    "订阅与平台运维": {
        "notification.subscribe": "订阅主体变动",
        "notification.unsubscribe": "取消订阅",
        "notification.webhook_add": "登记推送地址",
        "notification.webhook_remove": "删除推送地址",
        "backup.create": "备份",
        "backup.restore": "恢复备份",
        "assessment.publish": "发布考核通报",
        "evaluation.rerun": "重新评价",
    },
}

ACTION_LABELS: dict[str, str] = {
    code: label for group in ACTION_GROUPS.values() for code, label in group.items()
}

OUTCOME_LABELS: dict[str, str] = {"ok": "成功", "denied": "拒绝", "failed": "失败"}


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code, code)


def outcome_label(code: str) -> str:
    return OUTCOME_LABELS.get(code, code)


def role_label(code: str) -> str:
    try:
        return Role(code).label
    except ValueError:
        return code
