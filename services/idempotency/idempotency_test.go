package idempotency_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/pii"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func setup(t *testing.T, engine string) (*idempotency.Store, *clock, uuid.UUID) {
	db := modelstest.Open(t, engine)
	c := &clock{t: time.Now()}
	s, err := idempotency.New(db, idempotency.Options{Secret: []byte("0123456789abcdef0123"), Now: c.now, PII: testPII})
	if err != nil {
		t.Fatal(err)
	}
	user := models.NewID()
	if err := db.Create(&models.User{ID: user, Email: "u@example.pk", PasswordHash: "x", Name: "U", Role: models.RoleBuyer,
		CreatedAt: c.now(), UpdatedAt: c.now()}).Error; err != nil {
		t.Fatal(err)
	}
	return s, c, user
}

var req = idempotency.Request{Method: "POST", Path: "/api/v1/orders", Body: []byte(`{"a":1}`)}

func TestStaleClaimIsTakenOverAfterTheLease(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			s, c, user := setup(t, engine)
			if r, err := s.Begin(t.Context(), user, "k", req); r != nil || err != nil {
				t.Fatalf("first claim: %v %v", r, err)
			}
			// The first attempt's replica died: no Complete, no Abandon.
			if _, err := s.Begin(t.Context(), user, "k", req); !services.IsCode(err, services.CodeConflict) {
				t.Fatalf("within the lease: %v, want conflict", err)
			}
			c.add(idempotency.Lease + time.Second)
			if r, err := s.Begin(t.Context(), user, "k", req); r != nil || err != nil {
				t.Fatalf("after the lease: %v %v, want the claim", r, err)
			}
			if _, err := s.Begin(t.Context(), user, "k", req); !services.IsCode(err, services.CodeConflict) {
				t.Fatalf("the taken-over claim is not held: %v", err)
			}
		})
	}
}

func TestExpiredKeyMayBeReused(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			s, c, user := setup(t, engine)
			if _, err := s.Begin(t.Context(), user, "k", req); err != nil {
				t.Fatal(err)
			}
			if err := s.Complete(t.Context(), user, "k", idempotency.Response{Status: 201, ContentType: "application/json", Body: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			other := idempotency.Request{Method: "POST", Path: "/api/v1/orders", Body: []byte(`{"a":2}`)}
			if _, err := s.Begin(t.Context(), user, "k", other); !services.IsCode(err, services.CodeIdempotencyKeyReused) {
				t.Fatalf("reuse within 24 h: %v", err)
			}
			c.add(idempotency.TTL + time.Minute)
			if r, err := s.Begin(t.Context(), user, "k", other); r != nil || err != nil {
				t.Fatalf("after expiry: %v %v, want a fresh claim", r, err)
			}
			if err := s.Purge(t.Context()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// testPII is the fixed key the tests seal personal data with.
var testPII = func() *pii.Box {
	b, err := pii.New([]byte("karigar test pii key, 32 bytes!!"))
	if err != nil {
		panic(err)
	}
	return b
}()
