"""M3 MI errors as finsync errors, carrying M3's code, field, message and error type.

M3 reports an MI error as a quartet (``errorMessage``, ``errorCode``, ``errorField``, ``errorType``):
at the top level of an HTTP 400 for a single call, inside ``results[i]`` of a bulk 200 (contract 2.3).
Every MI error is permanent; retrying the same input gives the same answer:

- missing input (``MandatoryInputFieldNotFound``), too long (``InputFieldTooLong``) and business errors
  (``ServerReturnedNOK``: unknown customer, closed order, ...) -> :class:`M3ValidationError`;
- an unknown program or transaction (``TransactionNotFound``, or the gateway's bare 400 without a
  quartet) -> :class:`M3TransactionNotFoundError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from finsync_dagster.errors import ApiError, NotFoundError, ValidationError

_NOT_FOUND_TYPES = frozenset({"TransactionNotFound", "ProgramNotFound"})


class M3ValidationError(ValidationError):
    """M3 refused the input; ``error_type`` is M3's own class of error."""

    def __init__(self, message: str, *, error_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.error_type = error_type


class M3TransactionNotFoundError(NotFoundError):
    """The program or transaction does not exist in this M3 (a typo, or an MI not licensed here)."""

    def __init__(self, message: str, *, error_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.error_type = error_type


def has_mi_error(payload: Mapping[str, Any]) -> bool:
    return bool(payload.get("errorMessage") or payload.get("errorType") or payload.get("errorCode"))


def mi_error(payload: Mapping[str, Any], *, call: str, status: int | None, system: str = "infor") -> ApiError:
    """The finsync error for one MI error quartet (``call`` is ``PROGRAM/TRANSACTION``)."""
    error_type = _text(payload.get("errorType"))
    message = _text(payload.get("errorMessage")) or error_type or "M3 reported an error without a message"
    kwargs: dict[str, Any] = {
        "system": system,
        "status": status,
        "code": _text(payload.get("errorCode")) or error_type,
        "field": _text(payload.get("errorField")),
        "request": call,
        "error_type": error_type,
    }
    if error_type in _NOT_FOUND_TYPES:
        return M3TransactionNotFoundError(message, **kwargs)
    return M3ValidationError(message, **kwargs)


def bare_400(*, call: str, system: str = "infor") -> ApiError:
    # Contract 2.3 [S12]: the gateway answers an unknown program or transaction with a bare 400.
    return M3TransactionNotFoundError(
        "M3 refused the call without an MI error: the program or transaction does not exist here",
        system=system,
        status=400,
        request=call,
    )


def _text(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None
