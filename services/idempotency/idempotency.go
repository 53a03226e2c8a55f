// Package idempotency stores the first response to a request sent with an
// Idempotency-Key, so that a retry of the same request gets the same answer
// and a different request under the same key is refused. The store is the
// database, so the guarantee holds across replicas.
package idempotency

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/pii"
)

// TTL is how long a key is remembered; the contract asks for at least 24 h.
const TTL = 24 * time.Hour

// MaxKeyLength bounds an Idempotency-Key header.
const MaxKeyLength = 255

// Lease is how long a claim may stay in progress before a retry may take
// it over: a replica that crashed mid-request must not block the key for
// its whole TTL. It is longer than the server's write timeout.
const Lease = 2 * time.Minute

// Store is the idempotency store.
type Store struct {
	db     *gorm.DB
	secret []byte
	box    *pii.Box
	now    func() time.Time
}

// Options configure a Store.
type Options struct {
	// Secret keys the request hash (HMAC-SHA256), so that a stored hash of a
	// body holding a password cannot be tested against guesses offline.
	Secret []byte
	// PII seals the stored responses: an answer may hold personal data (an
	// artisan's phone number and CNIC, a buyer's address), which must not
	// lie in the database in clear.
	PII *pii.Box
	Now func() time.Time // nil: the wall clock
}

// New returns a Store on db.
func New(db *gorm.DB, opt Options) (*Store, error) {
	if len(opt.Secret) < 16 {
		return nil, errors.New("idempotency: a secret of at least 16 bytes is required")
	}
	if opt.PII == nil {
		return nil, errors.New("idempotency: a PII box is required (stored answers are sealed)")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Store{db: db, secret: opt.Secret, box: opt.PII, now: opt.Now}, nil
}

// Request is what a key is bound to.
type Request struct {
	Method string
	Path   string
	Body   []byte
}

func (s *Store) hash(r Request) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("karigar.idempotency\x00" + r.Method + " " + r.Path + "\x00"))
	m.Write(r.Body)
	return hex.EncodeToString(m.Sum(nil))
}

// Response is a recorded response.
type Response struct {
	Status      int
	ContentType string
	Location    string // the Location header, when there was one
	Body        []byte
}

// ValidKey reports whether key is acceptable: 1 to 255 visible ASCII characters.
func ValidKey(key string) bool {
	if len(key) == 0 || len(key) > MaxKeyLength {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// Begin claims key for user and req. It returns (nil, nil) when the caller
// should handle the request and then call Complete or Abandon; a recorded
// *Response to replay when the same request was already answered. Errors:
// idempotency_key_reused (same key, different request), conflict (the first
// request is still being handled).
func (s *Store) Begin(ctx context.Context, user uuid.UUID, key string, req Request) (*Response, error) {
	return s.claim(s.db.WithContext(ctx), user, key, s.hash(req))
}

// claim is Begin and Claim.Take alike, on db: the caller's own connection or
// the transaction that books the request.
func (s *Store) claim(db *gorm.DB, user uuid.UUID, key, requestHash string) (*Response, error) {
	now := s.now().UTC()
	for attempt := 0; attempt < 2; attempt++ {
		// Written out rather than gorm's Create, which reflects over the
		// model on every request.
		res := db.Exec(`INSERT INTO idempotency_keys (user_id, "key", request_hash, status, content_type, location, response_body,`+
			` created_at, expires_at) VALUES (?, ?, ?, 0, '', '', NULL, ?, ?) ON CONFLICT DO NOTHING`,
			user, key, requestHash, now, now.Add(TTL))
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 1 {
			return nil, nil
		}
		var got models.IdempotencyKey
		err := db.Where("user_id = ? AND key = ?", user, key).Take(&got).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue // abandoned between our insert and read: claim it again
		}
		if err != nil {
			return nil, err
		}
		if !got.ExpiresAt.After(now) {
			if err := db.Where("user_id = ? AND key = ? AND expires_at <= ?", user, key, now).
				Delete(&models.IdempotencyKey{}).Error; err != nil {
				return nil, err
			}
			continue
		}
		if got.RequestHash != requestHash {
			return nil, services.Conflict(services.CodeIdempotencyKeyReused,
				"this Idempotency-Key was already used with a different request")
		}
		if got.Status == 0 && got.CreatedAt.Before(now.Add(-Lease)) {
			// The first attempt died without an answer: take its claim over.
			// The condition makes one of several racing retries the owner.
			res := db.Model(&models.IdempotencyKey{}).
				Where("user_id = ? AND key = ? AND status = 0 AND created_at < ?", user, key, now.Add(-Lease)).
				Update("created_at", now)
			if res.Error != nil {
				return nil, res.Error
			}
			if res.RowsAffected == 1 {
				return nil, nil
			}
		}
		if got.Status == 0 {
			return nil, services.Conflict(services.CodeConflict,
				"a request with this Idempotency-Key is still being processed; retry later")
		}
		body, err := s.open(got.ResponseBody)
		if err != nil {
			return nil, err
		}
		return &Response{Status: got.Status, ContentType: got.ContentType, Location: got.Location, Body: body}, nil
	}
	return nil, services.Conflict(services.CodeConflict, "a request with this Idempotency-Key is still being processed; retry later")
}

// Complete records the response to replay for key, its body sealed.
func (s *Store) Complete(ctx context.Context, user uuid.UUID, key string, r Response) error {
	return s.complete(s.db.WithContext(ctx), user, key, r)
}

func (s *Store) complete(db *gorm.DB, user uuid.UUID, key string, r Response) error {
	a, err := s.answer(user, key, r)
	if err != nil {
		return err
	}
	q, args := a.Update()
	return db.Exec(q, args...).Error
}

// An Answer is what recording a response writes to its key's row: the
// response, its body sealed.
type Answer struct {
	user     uuid.UUID
	key      string
	response Response // Body sealed
}

func (s *Store) answer(user uuid.UUID, key string, r Response) (Answer, error) {
	body, err := s.seal(r.Body)
	if err != nil {
		return Answer{}, err
	}
	r.Body = body
	return Answer{user: user, key: key, response: r}, nil
}

// Update is the statement that records the answer (with ? placeholders),
// and its arguments: a caller may send it inside a statement of its own,
// such as a data-modifying WITH on PostgreSQL.
func (a Answer) Update() (string, []any) {
	r := a.response
	return "UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, response_body = ? WHERE user_id = ? AND key = ?",
		[]any{r.Status, r.ContentType, r.Location, r.Body, a.user, a.key}
}

func (s *Store) seal(body []byte) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	sealed, err := s.box.Seal(string(body))
	if err != nil {
		return nil, err
	}
	return []byte(sealed), nil
}

// open reads a stored body: sealed, or in clear when a binary older than
// sealing stored it and the data step (services/piidata) has not yet
// sealed it.
func (s *Store) open(stored []byte) ([]byte, error) {
	if !pii.IsSealed(string(stored)) {
		return stored, nil
	}
	plain, err := s.box.Open(string(stored))
	if err != nil {
		return nil, err
	}
	return []byte(plain), nil
}

// Abandon forgets key, so the client may retry: used when the first attempt
// failed in a way that changed nothing (a server error).
func (s *Store) Abandon(ctx context.Context, user uuid.UUID, key string) error {
	return s.db.WithContext(ctx).Where("user_id = ? AND key = ?", user, key).Delete(&models.IdempotencyKey{}).Error
}

// Purge deletes expired keys.
func (s *Store) Purge(ctx context.Context) error {
	return s.db.WithContext(ctx).Where("expires_at <= ?", s.now().UTC()).Delete(&models.IdempotencyKey{}).Error
}
