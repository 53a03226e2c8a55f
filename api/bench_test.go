package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/auth"
)

// benchServer is the production wiring (default bcrypt cost, JSON access
// log) on a fresh database; the log goes to io.Discard so the terminal is
// not what is measured.
func benchServer(b *testing.B, engine string) (http.Handler, *auth.Service) {
	b.Helper()
	db := modelstest.Open(b, engine)
	w := testWiring()
	w.BcryptCost = 0 // production's
	srv, svc := newServer(b, db, w, api.Config{DB: db, Logger: w.Logger})
	return srv.Handler(), svc.Auth
}

func eachEngine(b *testing.B, fn func(b *testing.B, engine string)) {
	for _, engine := range modelstest.Engines() {
		b.Run(engine, func(b *testing.B) { fn(b, engine) })
	}
}

// BenchmarkEmptyRoute is the cost of the middleware stack itself: request
// id, access log, metrics, recovery, security headers, body limit, routing.
func BenchmarkEmptyRoute(b *testing.B) {
	eachEngine(b, func(b *testing.B, engine string) {
		h, _ := benchServer(b, engine)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	})
}

// BenchmarkAuthenticatedRoute adds JWT verification and one primary-key read.
func BenchmarkAuthenticatedRoute(b *testing.B) {
	eachEngine(b, func(b *testing.B, engine string) {
		h, a := benchServer(b, engine)
		sess, err := a.Register(b.Context(), auth.NewUser{Email: "bench@example.pk", Password: goodPassword, Name: "B", Role: models.RoleBuyer})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "/api/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+sess.AccessToken)
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	})
}

// BenchmarkLogin is dominated, by design, by bcrypt at the production cost.
func BenchmarkLogin(b *testing.B) {
	eachEngine(b, func(b *testing.B, engine string) {
		h, a := benchServer(b, engine)
		if _, err := a.Register(b.Context(), auth.NewUser{Email: "bench@example.pk", Password: goodPassword, Name: "B", Role: models.RoleBuyer}); err != nil {
			b.Fatal(err)
		}
		body := []byte(`{"email":"bench@example.pk","password":"` + goodPassword + `"}`)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
