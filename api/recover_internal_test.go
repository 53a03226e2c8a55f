package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestPanicBecomesInternalEnvelope(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(withLogger(log), withRequestID(), recoverPanics(log))
	e.GET("/boom", func(*gin.Context) { panic("secret detail: db password is hunter2") })

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/boom", nil)
	req.Header.Set("X-Request-ID", "req-42")
	e.ServeHTTP(rec, req)

	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	var env errorEnvelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if env.Error.Code != "internal" || !strings.Contains(env.Error.Message, "req-42") {
		t.Fatalf("envelope %+v", env)
	}
	if strings.Contains(rec.Body.String(), "hunter2") {
		t.Fatal("the panic's text reached the client")
	}
	if !strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), "req-42") {
		t.Fatalf("the panic was not logged with its request id: %s", logs.String())
	}
}
