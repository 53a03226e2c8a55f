package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/idempotency"
)

// databaseRetryAfter is the Retry-After of an answer given while the
// database cannot be reached: long enough for a failover or a restart to
// begin, short enough that a client does not give up.
const databaseRetryAfter = 5 * time.Second

// databaseUnavailable is the answer while the database cannot be reached.
func databaseUnavailable() *services.Error {
	return &services.Error{Code: services.CodeUnavailable, RetryAfter: databaseRetryAfter,
		Message: "the database cannot be reached just now: try again shortly"}
}

// statusOf is the one mapping from service error codes to HTTP statuses.
var statusOf = map[services.Code]int{
	services.CodeBadRequest:           http.StatusBadRequest,
	services.CodeUnauthorized:         http.StatusUnauthorized,
	services.CodeForbidden:            http.StatusForbidden,
	services.CodeNotFound:             http.StatusNotFound,
	services.CodeConflict:             http.StatusConflict,
	services.CodeInsufficientStock:    http.StatusConflict,
	services.CodeInsufficientFunds:    http.StatusConflict,
	services.CodeIdempotencyKeyReused: http.StatusConflict,
	services.CodeInvalidState:         http.StatusConflict,
	services.CodeProductUnavailable:   http.StatusConflict,
	services.CodeConsentRequired:      http.StatusConflict,
	services.CodeCycleClosed:          http.StatusConflict,
	services.CodeSlotFull:             http.StatusConflict,
	services.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	services.CodeUnsupportedMedia:     http.StatusUnsupportedMediaType,
	services.CodeValidation:           http.StatusUnprocessableEntity,
	services.CodeRateLimited:          http.StatusTooManyRequests,
	services.CodeUnavailable:          http.StatusServiceUnavailable,
	services.CodeInternal:             http.StatusInternalServerError,
}

type errorBody struct {
	Code    services.Code     `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

type errorEnvelope struct {
	Error errorBody `json:"error"`
}

// writeError renders err as the contract's error envelope. An error that
// says the database cannot be reached (models.Unreachable) is 503
// unavailable with Retry-After. Other errors that are not a
// *services.Error are bugs: they are logged with the request id and
// answered with a 500 that names only that id.
func writeError(c *gin.Context, err error) {
	if r, ok := idempotency.AsReplay(err); ok {
		// Not an error: a service found the request already answered.
		writeReplay(c, r.Response)
		return
	}
	e, ok := services.AsError(err)
	if !ok && models.Unreachable(err) {
		// Not a bug: the database is gone or overloaded, and a retry may succeed.
		loggerOf(c).WarnContext(c.Request.Context(), "database unreachable", "request_id", requestID(c), "error", err.Error())
		e, ok = databaseUnavailable(), true
	}
	if !ok {
		loggerOf(c).ErrorContext(c.Request.Context(), "internal error", "request_id", requestID(c), "error", err.Error())
		e = &services.Error{Code: services.CodeInternal,
			Message: "something went wrong on our side; quote request id " + requestID(c) + " if you report it"}
	}
	status, known := statusOf[e.Code]
	if !known {
		status = http.StatusInternalServerError
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", challenge(c))
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", seconds(e.RetryAfter))
	}
	if q := e.Quota; q != nil {
		// The IETF draft's structured form (draft-ietf-httpapi-ratelimit-headers):
		// the quota, and that none of it is left until the Retry-After.
		c.Header("RateLimit-Policy", fmt.Sprintf(`%q;q=%d;w=%s`, q.Policy, q.Limit, seconds(q.Window)))
		c.Header("RateLimit", fmt.Sprintf(`%q;r=0;t=%s`, q.Policy, seconds(e.RetryAfter)))
	}
	c.AbortWithStatusJSON(status, errorEnvelope{Error: errorBody{Code: e.Code, Message: e.Message, Fields: e.Fields}})
}

// challenge is the WWW-Authenticate of a 401 (RFC 6750): the Bearer scheme,
// saying invalid_token when the request sent a token that authenticate
// refused. A 401 for other reasons (a wrong password at sign-in, a refresh
// token refused) names the scheme only.
func challenge(c *gin.Context) string {
	if _, signedIn := identityOf(c); c.GetHeader("Authorization") != "" && !signedIn {
		return `Bearer error="invalid_token"`
	}
	return "Bearer"
}

// seconds is d in whole seconds, rounded up, at least 1.
func seconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
