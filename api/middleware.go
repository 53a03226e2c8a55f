package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/services"
)

const (
	headerRequestID = "X-Request-ID"
	ctxRequestID    = "karigar.request_id"
	ctxLogger       = "karigar.logger"
	maxBodyBytes    = 1 << 20
)

var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// withRequestID echoes a well-formed X-Request-ID from the client or makes one.
func withRequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(headerRequestID)
		if !clientRequestID.MatchString(id) {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, id)
		c.Header(headerRequestID, id)
		c.Next()
	}
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// withLogger puts the server's logger on every request, for writeError:
// every handler and middleware reports errors through it, and carrying the
// logger on the request keeps that one function's signature.
func withLogger(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(ctxLogger, log)
		c.Next()
	}
}

// loggerOf is the logger withLogger set. A request without one was routed by
// an engine that New did not build: a bug, so it panics rather than let an
// internal error go unlogged.
func loggerOf(c *gin.Context) *slog.Logger {
	log, ok := c.Get(ctxLogger)
	if !ok {
		panic("api: the request has no logger: withLogger must come first")
	}
	return log.(*slog.Logger)
}

// routeOf is the route template ("/api/v1/products/:id"), so that logs and
// metrics never carry ids or query strings.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// accessLog writes one JSON line per request and observes its duration. It
// logs the route template, not the raw URL, so no personal data or tokens
// reach the log.
func accessLog(log *slog.Logger, m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		elapsed := time.Since(start)
		status := c.Writer.Status()
		route := routeOf(c)
		m.observe(route, c.Request.Method, status, elapsed)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		}
		if id, ok := identityOf(c); ok {
			attrs = append(attrs, slog.String("user_id", id.UserID.String()))
		}
		log.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

// recoverPanics turns a panic into the 500 envelope and logs the stack.
func recoverPanics(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.ErrorContext(c.Request.Context(), "panic", "request_id", requestID(c),
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				writeError(c, fmt.Errorf("panic: %v", r))
			}
		}()
		c.Next()
	}
}

// limitBody refuses bodies over 1 MiB, or a route's own limit
// (largeBodies): at once when Content-Length says so, and while reading
// otherwise.
func limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		limit, tooLarge := int64(maxBodyBytes), errTooLarge
		if l, ok := largeBodies[c.Request.Method+" "+c.FullPath()]; ok {
			limit, tooLarge = l.bytes, l.err
		}
		if c.Request.ContentLength > limit {
			writeError(c, tooLarge)
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// largeBodies are the routes that take more than 1 MiB: photo uploads, a
// file of up to 10 MiB in a multipart body.
var largeBodies = map[string]struct {
	bytes int64
	err   *services.Error
}{
	"POST " + Base + "/products/:id/images": {uploadBodyBytes, errUploadTooLarge},
}

// headOnly answers a HEAD request with the headers and status of its GET
// and no body: what the handlers write is counted but not sent.
func headOnly() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Method == http.MethodHead {
			c.Writer = &bodiless{ResponseWriter: c.Writer}
		}
		c.Next()
	}
}

type bodiless struct{ gin.ResponseWriter }

func (w *bodiless) Write(b []byte) (int, error) {
	w.WriteHeaderNow()
	return len(b), nil
}

func (w *bodiless) WriteString(s string) (int, error) {
	w.WriteHeaderNow()
	return len(s), nil
}

// securityHeaders are safe defaults for a JSON API; pages that render HTML
// set their own Content-Security-Policy.
func securityHeaders(production bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		if production {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		c.Next()
	}
}

func notFound(c *gin.Context) {
	writeError(c, services.NotFound("route "+c.Request.Method+" "+c.Request.URL.Path))
}

func methodNotAllowed(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorEnvelope{Error: errorBody{
		Code: "method_not_allowed", Message: "method " + c.Request.Method + " is not allowed on " + c.Request.URL.Path}})
}
