// Package idempotency stores the first response to a request sent with an
// Idempotency-Key, so that a retry of the same request gets the same answer
// and a different request under the same key is refused. The store is the
// database, so the guarantee holds across replicas.
package idempotency

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// TTL is how long a key is remembered; the contract asks for at least 24 h.
const TTL = 24 * time.Hour

// MaxKeyLength bounds an Idempotency-Key header.
const MaxKeyLength = 255

// Store is the idempotency store.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// New returns a Store on db; now may be nil for the wall clock.
func New(db *gorm.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

// Response is a recorded response.
type Response struct {
	Status      int
	ContentType string
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

// Begin claims key for user and the request with requestHash. It returns
// (nil, nil) when the caller should handle the request and then call
// Complete or Abandon; a recorded *Response to replay when the same request
// was already answered. Errors: idempotency_key_reused (same key, different
// request), conflict (the first request is still being handled).
func (s *Store) Begin(ctx context.Context, user uuid.UUID, key, requestHash string) (*Response, error) {
	now := s.now().UTC()
	db := s.db.WithContext(ctx)
	for attempt := 0; attempt < 2; attempt++ {
		row := models.IdempotencyKey{UserID: user, Key: key, RequestHash: requestHash, CreatedAt: now, ExpiresAt: now.Add(TTL)}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
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
		if got.Status == 0 {
			return nil, services.Conflict(services.CodeConflict,
				"a request with this Idempotency-Key is still being processed; retry later")
		}
		return &Response{Status: got.Status, ContentType: got.ContentType, Body: got.ResponseBody}, nil
	}
	return nil, services.Conflict(services.CodeConflict, "a request with this Idempotency-Key is still being processed; retry later")
}

// Complete records the response to replay for key.
func (s *Store) Complete(ctx context.Context, user uuid.UUID, key string, r Response) error {
	return s.db.WithContext(ctx).Model(&models.IdempotencyKey{}).
		Where("user_id = ? AND key = ?", user, key).
		Updates(map[string]any{"status": r.Status, "content_type": r.ContentType, "response_body": r.Body}).Error
}

// Abandon forgets key, so the client may retry: used when the first attempt
// failed in a way that changed nothing (a server error).
func (s *Store) Abandon(ctx context.Context, user uuid.UUID, key string) error {
	return s.db.WithContext(ctx).Where("user_id = ? AND key = ?", user, key).Delete(&models.IdempotencyKey{}).Error
}

// Purge deletes expired keys and returns how many.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at <= ?", s.now().UTC()).Delete(&models.IdempotencyKey{})
	return res.RowsAffected, res.Error
}
