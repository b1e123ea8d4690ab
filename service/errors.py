"""Domain errors, one tree, mapped to RFC 9457 problem+json in exactly one place (service.app).

    FactcheckError                    500  (never raised directly)
    ├── NotFound                      404  unknown article, check or claim
    ├── InvalidInput                  422  well-formed JSON that cannot be processed
    │   ├── IdempotencyKeyReused      422  an Idempotency-Key sent again with another body
    │   ├── WebhookNotConfigured      422  a callback_url, but no FACTCHECK_WEBHOOK_SECRET
    │   └── CallbackRefused           422  a callback_url into the server's own network
    ├── CheckInProgress               409  a retried synchronous check that is still running
    ├── PayloadTooLarge               413  body over FACTCHECK_MAX_ARTICLE_BYTES
    ├── StoreUnavailable              503  database unreachable; nothing was written
    └── LLMError                      502  the LLM failed the request
        ├── LLMUnavailable            503  transport errors, 429/5xx after all retries
        └── LLMBadOutput              502  output still invalid after all re-asks

Each class carries its HTTP status and a stable problem `type` slug; the message is the
problem's `detail`, so it must be safe to show to an API client.
"""

from __future__ import annotations


class FactcheckError(Exception):
    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(FactcheckError):
    status = 404
    slug = "not-found"
    title = "Not found"


class InvalidInput(FactcheckError):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class IdempotencyKeyReused(InvalidInput):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"


class WebhookNotConfigured(InvalidInput):
    slug = "webhook-not-configured"
    title = "Webhooks are not configured"


class CallbackRefused(InvalidInput):
    slug = "callback-url-refused"
    title = "callback_url refused"


class CheckInProgress(FactcheckError):
    status = 409
    slug = "check-in-progress"
    title = "Check still in progress"


class PayloadTooLarge(FactcheckError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class StoreUnavailable(FactcheckError):
    status = 503
    slug = "store-unavailable"
    title = "Database unavailable"


class LLMError(FactcheckError):
    status = 502
    slug = "llm-error"
    title = "LLM error"


class LLMUnavailable(LLMError):
    status = 503
    slug = "llm-unavailable"
    title = "LLM unavailable"


class LLMBadOutput(LLMError):
    status = 502
    slug = "llm-bad-output"
    title = "LLM returned unusable output"
