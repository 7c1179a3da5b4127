"""A report's life: its states, the actions between them, and what the reporter is told."""

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from ..auth.models import Role


class State(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    TRANSFERRED = "transferred"
    VERIFYING = "verifying"
    PARKED = "parked"
    PENDING_APPROVAL = "pending_approval"
    CONCLUDED = "concluded"
    ANSWERED = "answered"


STATE_LABELS = {
    State.SUBMITTED: _l("待受理"),
    State.ACCEPTED: _l("已受理"),
    State.REJECTED: _l("不予受理"),
    State.DUPLICATE: _l("重复件"),
    State.TRANSFERRED: _l("已转办"),
    State.VERIFYING: _l("核查中"),
    State.PARKED: _l("暂存待查"),
    State.PENDING_APPROVAL: _l("待审批"),
    State.CONCLUDED: _l("已办结"),
    State.ANSWERED: _l("已反馈"),
}

# What /track shows: never the internal state or method.
PUBLIC_LABELS = {
    State.SUBMITTED: _l("已收到，待受理"),
    State.ACCEPTED: _l("处理中"),
    State.VERIFYING: _l("处理中"),
    State.PARKED: _l("处理中"),
    State.PENDING_APPROVAL: _l("处理中"),
    State.REJECTED: _l("不予受理"),
    State.DUPLICATE: _l("已并入同一问题的其他举报处理"),
    State.TRANSFERRED: _l("已转交"),
    State.CONCLUDED: _l("已办结"),
    State.ANSWERED: _l("已办结"),
}

# While a report is open its reporter may still add information or photos.
OPEN_STATES = frozenset(
    {State.SUBMITTED, State.ACCEPTED, State.VERIFYING, State.PARKED, State.PENDING_APPROVAL}
)


class Method(StrEnum):
    TALK_INQUIRY = "talk_inquiry"
    PRELIMINARY = "preliminary"
    CLOSED = "closed"  # 予以了结: decided straight from accepted, without verification


METHOD_LABELS = {
    Method.TALK_INQUIRY: _l("谈话函询"),
    Method.PRELIMINARY: _l("初步核实"),
    Method.CLOSED: _l("予以了结"),
}
# The methods an officer chooses when verification begins.
VERIFY_METHODS = (Method.TALK_INQUIRY, Method.PRELIMINARY)


class Finding(StrEnum):
    TRUE = "true"
    PARTLY_TRUE = "partly_true"
    FALSE = "false"
    UNVERIFIABLE = "unverifiable"


FINDING_LABELS = {
    Finding.TRUE: _l("属实"),
    Finding.PARTLY_TRUE: _l("部分属实"),
    Finding.FALSE: _l("不属实"),
    Finding.UNVERIFIABLE: _l("无法核实"),
}


class Outcome(StrEnum):
    REMINDER = "reminder"
    CRITICISM = "criticism"
    SELF_EXAMINATION = "self_examination"
    ADMONISHMENT = "admonishment"
    SANCTION = "sanction"
    JUDICIAL = "judicial"
    NONE = "none"


OUTCOME_LABELS = {
    Outcome.REMINDER: _l("谈话提醒"),
    Outcome.CRITICISM: _l("批评教育"),
    Outcome.SELF_EXAMINATION: _l("责令检查"),
    Outcome.ADMONISHMENT: _l("诫勉"),
    Outcome.SANCTION: _l("党纪政务处分"),
    Outcome.JUDICIAL: _l("移送司法机关"),
    Outcome.NONE: _l("无"),
}


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    MARK_DUPLICATE = "mark_duplicate"
    TRANSFER = "transfer"
    VERIFY = "verify"
    PARK = "park"
    REOPEN = "reopen"
    CLOSE = "close"  # 予以了结: straight to approval from `accepted`
    PROPOSE = "propose"
    APPROVE = "approve"
    SEND_BACK = "send_back"
    REPLY = "reply"
    OBJECT = "object"  # the reporter's 异议


@dataclass(frozen=True)
class Rule:
    sources: frozenset[State]
    target: State
    label: str
    # Who may take it; None means the reporter (through the receipt), not staff.
    roles: frozenset[Role] | None
    required: tuple[str, ...] = ()


OFFICERS = frozenset({Role.OFFICER, Role.LEADER})
LEADERS = frozenset({Role.LEADER})

TRANSITIONS: dict[Action, Rule] = {
    Action.ACCEPT: Rule(frozenset({State.SUBMITTED}), State.ACCEPTED, _l("受理"), OFFICERS),
    Action.REJECT: Rule(
        frozenset({State.SUBMITTED}), State.REJECTED, _l("不予受理"), OFFICERS, ("reason",)
    ),
    Action.MARK_DUPLICATE: Rule(
        frozenset({State.SUBMITTED}),
        State.DUPLICATE,
        _l("标为重复件"),
        OFFICERS,
        ("duplicate_of",),
    ),
    Action.TRANSFER: Rule(
        frozenset({State.SUBMITTED, State.ACCEPTED}),
        State.TRANSFERRED,
        _l("转办"),
        OFFICERS,
        ("transferred_to",),
    ),
    Action.VERIFY: Rule(
        frozenset({State.ACCEPTED}), State.VERIFYING, _l("开始核查"), OFFICERS, ("method",)
    ),
    Action.PARK: Rule(
        frozenset({State.ACCEPTED, State.VERIFYING}), State.PARKED, _l("暂存待查"), OFFICERS
    ),
    Action.REOPEN: Rule(frozenset({State.PARKED}), State.VERIFYING, _l("重新核查"), OFFICERS),
    Action.CLOSE: Rule(
        frozenset({State.ACCEPTED}),
        State.PENDING_APPROVAL,
        _l("予以了结"),
        OFFICERS,
        ("finding", "outcome"),
    ),
    Action.PROPOSE: Rule(
        frozenset({State.VERIFYING}),
        State.PENDING_APPROVAL,
        _l("提出处理意见"),
        OFFICERS,
        ("finding", "outcome"),
    ),
    Action.APPROVE: Rule(
        frozenset({State.PENDING_APPROVAL}), State.CONCLUDED, _l("批准办结"), LEADERS
    ),
    Action.SEND_BACK: Rule(
        frozenset({State.PENDING_APPROVAL}), State.VERIFYING, _l("退回核查"), LEADERS
    ),
    Action.REPLY: Rule(
        frozenset({State.CONCLUDED}), State.ANSWERED, _l("答复举报人"), OFFICERS, ("reply",)
    ),
    Action.OBJECT: Rule(
        frozenset({State.ANSWERED}), State.VERIFYING, _l("提出异议"), None, ("text",)
    ),
}


def allowed_actions(state: State | str, role: Role | str | None) -> list[Action]:
    """The actions a role may take on a report in this state (None: the reporter)."""
    return [
        action
        for action, rule in TRANSITIONS.items()
        if state in rule.sources
        and (rule.roles is None if role is None else rule.roles is not None and role in rule.roles)
    ]
