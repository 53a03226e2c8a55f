// Package services holds Karigar's business logic, one subpackage per
// domain, and the one error family every service returns. The api package
// maps these errors to HTTP statuses in a single place.
package services

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Code is a machine-readable error code of the API contract.
type Code string

const (
	CodeBadRequest           Code = "bad_request"
	CodeUnauthorized         Code = "unauthorized"
	CodeForbidden            Code = "forbidden"
	CodeNotFound             Code = "not_found"
	CodeConflict             Code = "conflict"
	CodeInsufficientStock    Code = "insufficient_stock"
	CodeInsufficientFunds    Code = "insufficient_funds"
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	CodeInvalidState         Code = "invalid_state"
	CodeProductUnavailable   Code = "product_unavailable"
	CodeCycleClosed          Code = "cycle_closed" // an order cycle outside its window
	CodeSlotFull             Code = "slot_full"    // an order cycle's slot holds its max_orders
	CodePayloadTooLarge      Code = "payload_too_large"
	CodeUnsupportedMedia     Code = "unsupported_media_type"
	CodeValidation           Code = "validation_failed"
	CodeRateLimited          Code = "rate_limited"
	CodeUnavailable          Code = "unavailable"
	CodeInternal             Code = "internal"
)

// CodeConsentRequired (409): the artisan has not consented to what was asked
// (an income statement).
const CodeConsentRequired Code = "consent_required"

// Error is the one error type services return for outcomes a caller should
// see. Anything else that escapes a service is a bug and is reported as
// internal without its text.
type Error struct {
	Code       Code
	Message    string
	Fields     map[string]string // field path → problem, for validation errors
	RetryAfter time.Duration     // for rate limits
	Quota      *Quota            // the limit a rate_limited error ran into, when known
}

// Quota is a rate limit: Limit requests per Window, named by Policy.
type Quota struct {
	Policy string // a short name for clients, e.g. "login"
	Limit  int
	Window time.Duration
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 || len(e.Fields) == 1 && Invalid(e.Fields).Message == e.Message {
		// One field's problem is the message already: not twice.
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + e.Fields[k]
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool {
	e, ok := AsError(err)
	return ok && e.Code == code
}

// NotFound says that what (e.g. "product") does not exist or may not be known
// to the caller.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// BadRequest is for requests that are malformed rather than invalid.
func BadRequest(format string, args ...any) *Error {
	return &Error{Code: CodeBadRequest, Message: fmt.Sprintf(format, args...)}
}

// Unauthorized is for a missing, expired or forged identity.
func Unauthorized(message string) *Error {
	return &Error{Code: CodeUnauthorized, Message: message}
}

// Forbidden is for an identity that may not do what it asked.
func Forbidden(message string) *Error {
	return &Error{Code: CodeForbidden, Message: message}
}

// Conflict is for a request the current state forbids; code is one of the
// 409 codes of the contract.
func Conflict(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// RateLimited tells the caller to wait retryAfter before trying again.
func RateLimited(retryAfter time.Duration) *Error {
	return &Error{Code: CodeRateLimited, Message: "too many attempts; try again later", RetryAfter: retryAfter}
}

// QuotaExceeded is RateLimited for a caller who has used up quota: it is
// told the quota as well as when to try again.
func QuotaExceeded(q Quota, retryAfter time.Duration) *Error {
	e := RateLimited(retryAfter)
	e.Quota = &q
	return e
}

// Unavailable is for a dependency that cannot be reached right now.
func Unavailable(message string) *Error {
	return &Error{Code: CodeUnavailable, Message: message}
}

// FieldErrors collects validation problems so that a caller hears of all of
// them at once. The zero value is ready to use.
type FieldErrors map[string]string

// Add records problem for field unless the field already has one.
func (f *FieldErrors) Add(field, problem string) {
	if *f == nil {
		*f = FieldErrors{}
	}
	if _, seen := (*f)[field]; !seen {
		(*f)[field] = problem
	}
}

// Check records problem for field when bad is true.
func (f *FieldErrors) Check(bad bool, field, problem string) {
	if bad {
		f.Add(field, problem)
	}
}

// Err returns a validation_failed *Error holding the problems, or nil.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f)
}

// Invalid is a validation_failed error for the given field problems.
func Invalid(fields map[string]string) *Error {
	msg := "the request has invalid values"
	if len(fields) == 1 {
		for k, v := range fields {
			msg = k + " " + v
		}
	}
	return &Error{Code: CodeValidation, Message: msg, Fields: fields}
}

// TextWithin reports whether s is min to max characters long and holds no
// NUL byte (which PostgreSQL refuses in text).
func TextWithin(s string, min, max int) bool {
	n := utf8.RuneCountInString(s)
	return n >= min && n <= max && !strings.ContainsRune(s, 0)
}
