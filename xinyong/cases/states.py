"""Case states (办件状态) and the moves between them.

received (已受理) -> handling (办理中) -> closed (已办结); received / handling -> paused
(中止计时) -> back to where it was. Closing needs an outcome and a reason; a closed case never
moves again.
"""

RECEIVED = "received"
HANDLING = "handling"
PAUSED = "paused"
CLOSED = "closed"

OPEN_STATES: frozenset[str] = frozenset({RECEIVED, HANDLING, PAUSED})

LABELS = {RECEIVED: "已受理", HANDLING: "办理中", PAUSED: "中止计时", CLOSED: "已办结"}

ROUTE_LABELS = {"platform": "平台核查", "department": "部门核实"}
CHANNEL_LABELS = {"online": "网上申请", "window": "窗口代录", "api": "接口", "cli": "命令行"}

EVENT_LABELS = {
    "filed": "受理",
    "started": "开始办理",
    "assigned": "指定承办人",
    "transferred": "改派",
    "note": "答复 / 备注",
    "material_requested": "要求补正材料",
    "material_received": "收到补正材料",
    "paused": "中止计时",
    "resumed": "恢复计时",
    "decided": "办结",
}
