"""Errors the sandbox answers with, in the shapes M3 and the ION API Gateway use.

M3 MI errors carry the quartet ``errorMessage``, ``errorCode``, ``errorField``, ``errorType``: a single
call answers HTTP 400 with the quartet at the top level of the body; a bulk call answers 200 and puts the
quartet into that transaction's result. Gateway errors (401, 429, 504, injected 5xx) never reach M3, so they
have the gateway's own body: ``{"code", "error", "message"}`` (the real body format is UNCONFIRMED).
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse, Response


class MIError(Exception):
    """An MI transaction failed; rendered as the quartet."""

    error_type = "ServerReturnedNOK"

    def __init__(self, message: str, *, field: str = "", code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def quartet(self) -> dict[str, str]:
        return {
            "errorMessage": self.message,
            "errorCode": self.code,
            "errorField": self.field,
            "errorType": self.error_type,
        }


class MandatoryInputFieldNotFound(MIError):
    error_type = "MandatoryInputFieldNotFound"

    def __init__(self, field: str) -> None:
        super().__init__(f"Mandatory input field {field} not found", field=field)


class InputFieldTooLong(MIError):
    error_type = "InputFieldTooLong"

    def __init__(self, field: str, length: int) -> None:
        super().__init__(f"Input field {field} is longer than {length}", field=field)


class TransactionNotFound(MIError):
    error_type = "TransactionNotFound"

    def __init__(self, program: str, transaction: str) -> None:
        super().__init__(f"Transaction {transaction} does not exist in program {program}")


class ProgramNotFound(MIError):
    """No such MI program: the gateway has no endpoint for it and answers a bare 400 (contract 2.3)."""

    error_type = "ProgramNotFound"

    def __init__(self, program: str) -> None:
        super().__init__(f"Program {program} does not exist")


class BusinessError(MIError):
    """The program said NOK: unknown customer, closed order, unknown account, ..."""


def not_found(what: str, value: str, field: str, code: str = "WXX0203") -> BusinessError:
    return BusinessError(f"{what} {value} does not exist", field=field, code=code)


def already_exists(what: str, value: str, field: str, code: str = "WXX0201") -> BusinessError:
    return BusinessError(f"{what} {value} already exists", field=field, code=code)


def mi_error_response(error: MIError) -> Response:
    if isinstance(error, ProgramNotFound):
        return Response(status_code=400)
    return JSONResponse(error.quartet(), status_code=400)


def gateway_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"code": status, "error": HTTPStatus(status).phrase, "message": message}
    return JSONResponse(body, status_code=status, headers=headers)


def unauthorized(message: str = "Bearer token is missing, invalid or expired") -> Response:
    return gateway_error(401, message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def throttled(retry_after: int) -> Response:
    return gateway_error(
        429, "Quota exceeded for this API; retry later", {"Retry-After": str(max(1, retry_after))}
    )


def gateway_timeout(timeout_ms: int) -> Response:
    return gateway_error(504, f"The backend did not answer within the gateway timeout of {timeout_ms} ms")


def oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
