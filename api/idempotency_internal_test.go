package api

import (
	"crypto/ed25519"
	"golang.org/x/crypto/bcrypt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/pii"
)

// A handler that panics must not leave its Idempotency-Key claimed: the
// retry runs the request, through the real middleware stack.
func TestIdempotencyKeyReleasedAfterPanic(t *testing.T) {
	t.Parallel()
	secret := []byte("test-secret-test-secret-test-secret!")
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := modelstest.Open(t, engine)
			log := slog.New(slog.NewJSONHandler(io.Discard, nil))
			box, err := pii.New(secret[:pii.KeySize])
			if err != nil {
				t.Fatal(err)
			}
			svc, err := Build(db, Wiring{Currency: "PKR", Secret: secret, LedgerKey: ed25519.NewKeyFromSeed(secret[:32]), BcryptCost: bcrypt.MinCost,
				Logger: log, PII: box})
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(Config{DB: db, Services: svc, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			a := svc.Auth
			calls := 0
			s.engine.Group(Base, s.authenticate(), s.idempotentPOST()).POST("/flaky", func(c *gin.Context) {
				calls++
				if calls == 1 {
					panic("first attempt fails")
				}
				c.JSON(http.StatusCreated, gin.H{"attempt": calls})
			})
			sess, err := a.Register(t.Context(), auth.NewUser{Email: "p@example.pk", Password: "correct horse battery", Name: "P", Role: models.RoleBuyer})
			if err != nil {
				t.Fatal(err)
			}
			post := func() *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("POST", Base+"/flaky", nil)
				req.Header.Set("Authorization", "Bearer "+sess.AccessToken)
				req.Header.Set("Idempotency-Key", "k1")
				s.Handler().ServeHTTP(rec, req)
				return rec
			}
			if rec := post(); rec.Code != http.StatusInternalServerError {
				t.Fatalf("first attempt: %d", rec.Code)
			}
			if rec := post(); rec.Code != http.StatusCreated || calls != 2 {
				t.Fatalf("retry: %d %s after %d calls; the key stayed claimed", rec.Code, rec.Body, calls)
			}
			if rec := post(); rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "true" || calls != 2 {
				t.Fatalf("third attempt was not a replay: %d, %d calls", rec.Code, calls)
			}
		})
	}
}
