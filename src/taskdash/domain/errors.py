"""One error tree; every error carries the errid of SPEC §7.3.

TaskDashError (errid, errmsg, http_status)
├── BadRequest          1000  400
│   └── PayloadTooLarge 1000  413
├── StoreWriteError     1001  503
├── StoreReadError      1002  503
├── BadCredentials      1003  401
├── NotLoggedIn         1004  401
├── Forbidden           1005  403
├── TaskNotFound        1006  404
├── TaskNotClaimable    1007  409
├── ClaimLimitReached   1008  409
├── NothingToClaim      1009  404
├── TooManyRequests     1010  429
└── InternalError       1011  500   (not in the seed's table: an unexpected failure, logged)
"""

from __future__ import annotations


class TaskDashError(Exception):
    """Base of every error TaskDash reports to a client."""

    errid: int = 1000
    errmsg: str = "请求格式不正确"
    http_status: int = 400

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.errmsg)
        self.detail = detail


class BadRequest(TaskDashError):
    errid, errmsg, http_status = 1000, "请求格式不正确", 400


class PayloadTooLarge(BadRequest):
    """A request body over the size limit (refused before it is read)."""

    http_status = 413


class StoreWriteError(TaskDashError):
    errid, errmsg, http_status = 1001, "数据库存储失败", 503


class StoreReadError(TaskDashError):
    errid, errmsg, http_status = 1002, "数据库查询失败", 503


class BadCredentials(TaskDashError):
    errid, errmsg, http_status = 1003, "用户名或密码错误", 401


class NotLoggedIn(TaskDashError):
    errid, errmsg, http_status = 1004, "未登录或会话已过期", 401


class Forbidden(TaskDashError):
    errid, errmsg, http_status = 1005, "权限不足", 403


class TaskNotFound(TaskDashError):
    errid, errmsg, http_status = 1006, "任务不存在", 404


class TaskNotClaimable(TaskDashError):
    errid, errmsg, http_status = 1007, "任务不可领取", 409


class ClaimLimitReached(TaskDashError):
    errid, errmsg, http_status = 1008, "已达到领取上限", 409


class NothingToClaim(TaskDashError):
    errid, errmsg, http_status = 1009, "没有可领取的任务", 404


class TooManyRequests(TaskDashError):
    errid, errmsg, http_status = 1010, "请求过于频繁", 429

    def __init__(self, detail: str = "", *, retry_after_s: int = 60) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class InternalError(TaskDashError):
    errid, errmsg, http_status = 1011, "服务器内部错误", 500


class InvalidMessage(ValueError):
    """A message from a task service that can never be applied (goes to dead letters)."""


ERRORS_BY_ID: dict[int, type[TaskDashError]] = {
    cls.errid: cls
    for cls in (
        BadRequest,
        StoreWriteError,
        StoreReadError,
        BadCredentials,
        NotLoggedIn,
        Forbidden,
        TaskNotFound,
        TaskNotClaimable,
        ClaimLimitReached,
        NothingToClaim,
        TooManyRequests,
        InternalError,
    )
}
