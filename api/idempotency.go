package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/idempotency"
)

const headerIdempotencyKey = "Idempotency-Key"

// requireKey refuses a request without an Idempotency-Key. The key itself
// is handled by idempotentPOST, which runs first.
func requireKey() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.GetHeader(headerIdempotencyKey) == "" {
			writeError(c, services.BadRequest("the Idempotency-Key header is required on this request"))
			return
		}
		c.Next()
	}
}

// idempotent switches Idempotency-Key handling on for a route. Keys are scoped to the signed-in user and
// bound to a hash of the method, path and body: a retry replays the first
// response, a different request under the same key is a 409. Anonymous
// requests may send the header; it is accepted and not stored, since no
// user owns it. The /auth routes do not use it at all: their responses hold
// fresh tokens, which must not be kept anywhere in a usable form.
func (s *Server) idempotent() gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.GetHeader(headerIdempotencyKey)
		if key == "" {
			c.Next()
			return
		}
		if !idempotency.ValidKey(key) {
			writeError(c, services.BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters"))
			return
		}
		who, ok := identityOf(c)
		if !ok {
			c.Next()
			return
		}
		body, err := readBody(c)
		if err != nil {
			writeError(c, err)
			return
		}

		req := idempotency.Request{Method: c.Request.Method, Path: c.Request.URL.Path, Body: body}
		if bookedRoutes[c.FullPath()] {
			s.claimInBooking(c, s.idem.Claim(who.UserID, key, req))
			return
		}
		replay, err := s.idem.Begin(c.Request.Context(), who.UserID, key, req)
		if err != nil {
			writeError(c, err)
			return
		}
		if replay != nil {
			writeReplay(c, *replay)
			return
		}
		// The response must be recorded even if the client has gone away.
		ctx := context.WithoutCancel(c.Request.Context())
		rec := &recordingWriter{ResponseWriter: c.Writer}
		c.Writer = rec
		handled := false
		defer func() {
			if handled {
				return
			}
			// The handler panicked (recoverPanics answers 500 further out):
			// release the key so that a retry runs the request again.
			if err := s.idem.Abandon(ctx, who.UserID, key); err != nil {
				s.log.ErrorContext(ctx, "release idempotency key", "request_id", requestID(c), "error", err.Error())
			}
		}()
		c.Next()
		handled = true

		// A server error or a rate limit did not run the request: forget the
		// key so that the retry runs it, rather than replaying a refusal.
		if status := rec.Status(); status >= 500 || status == http.StatusTooManyRequests {
			err = s.idem.Abandon(ctx, who.UserID, key)
		} else {
			err = s.idem.Complete(ctx, who.UserID, key, idempotency.Response{
				Status: status, ContentType: rec.Header().Get("Content-Type"), Location: rec.Header().Get("Location"), Body: rec.body.Bytes()})
		}
		if err != nil {
			s.log.ErrorContext(ctx, "record idempotent response", "request_id", requestID(c), "error", err.Error())
		}
	}
}

// bookedRoutes are the routes whose service takes the Idempotency-Key
// inside the transaction that books the request (idempotency.Claim), so
// that the claim, the booking and the answer to replay are one commit.
// A route's handler must pass claimOf(c) to its service before it is
// listed here.
var bookedRoutes = map[string]bool{
	Base + "/orders":             true,
	Base + "/groups/:id/payouts": true,
}

type claimContextKey struct{}

// claimInBooking hands the claim to the handler (claimOf), which passes it
// to its service. What the service books it records there; a refusal
// (a 4xx that booked nothing) is remembered here, in a commit of its own,
// so that a retry gets the same answer. A server error or a rate limit
// leaves the key free: the retry runs the request again.
func (s *Server) claimInBooking(c *gin.Context, claim *idempotency.Claim) {
	c.Set(claimContextKey{}, claim)
	rec := &recordingWriter{ResponseWriter: c.Writer}
	c.Writer = rec
	c.Next()
	status := rec.Status()
	if status < 400 || status >= 500 || status == http.StatusTooManyRequests || rec.Header().Get("Idempotent-Replayed") != "" {
		return
	}
	ctx := context.WithoutCancel(c.Request.Context())
	err := claim.Remember(ctx, idempotency.Response{Status: status, ContentType: rec.Header().Get("Content-Type"), Body: rec.body.Bytes()})
	if err != nil {
		s.log.ErrorContext(ctx, "record idempotent refusal", "request_id", requestID(c), "error", err.Error())
	}
}

// claimOf is the request's claim for its service to take in its booking
// transaction, nil when the request has no Idempotency-Key or no user.
func claimOf(c *gin.Context) *idempotency.Claim {
	v, _ := c.Get(claimContextKey{})
	claim, _ := v.(*idempotency.Claim)
	return claim
}

// answerFor renders the JSON answer a handler will send, so that a service
// can record exactly those bytes with its booking; writeAnswer sends it.
func answerFor(status int, body any, parts ...string) (idempotency.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return idempotency.Response{}, err
	}
	r := idempotency.Response{Status: status, ContentType: "application/json; charset=utf-8", Body: b}
	if len(parts) > 0 {
		r.Location = location(parts...)
	}
	return r, nil
}

// writeAnswer sends an answer built by answerFor.
func writeAnswer(c *gin.Context, r idempotency.Response) {
	if r.Location != "" {
		c.Header("Location", r.Location)
	}
	c.Data(r.Status, r.ContentType, r.Body)
}

// writeReplay sends a recorded answer again.
func writeReplay(c *gin.Context, r idempotency.Response) {
	c.Header("Idempotent-Replayed", "true")
	writeAnswer(c, r)
	c.Abort()
}

type recordingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
