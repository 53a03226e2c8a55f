package api

import (
	"bytes"
	"context"
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

		replay, err := s.idem.Begin(c.Request.Context(), who.UserID, key,
			idempotency.Request{Method: c.Request.Method, Path: c.Request.URL.Path, Body: body})
		if err != nil {
			writeError(c, err)
			return
		}
		if replay != nil {
			c.Header("Idempotent-Replayed", "true")
			if replay.Location != "" {
				c.Header("Location", replay.Location)
			}
			c.Data(replay.Status, replay.ContentType, replay.Body)
			c.Abort()
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
