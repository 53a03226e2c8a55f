package idempotency

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
)

// A Claim is an Idempotency-Key taken inside the transaction that books the
// request (a checkout, a payout): the claim, the booking and the recorded
// answer commit together, so one request is one commit, and a crash can
// never leave a claim without its answer. A concurrent retry under the same
// key waits on the claim's row until the first commits, then replays it.
type Claim struct {
	User  uuid.UUID
	Key   string
	hash  string
	store *Store
}

// Claim prepares a claim of key for user and req; nothing is written until
// Take.
func (s *Store) Claim(user uuid.UUID, key string, req Request) *Claim {
	return &Claim{User: user, Key: key, hash: s.hash(req), store: s}
}

// Replay is the error Take returns when the request was already answered:
// the caller rolls its transaction back and sends Response as it stands.
type Replay struct {
	Response Response
}

func (r *Replay) Error() string { return "idempotency: the request was already answered" }

// AsReplay reports whether err is (or wraps) a *Replay.
func AsReplay(err error) (*Replay, bool) {
	var r *Replay
	ok := errors.As(err, &r)
	return r, ok
}

// Take claims the key inside tx. nil: the caller books the request and
// calls Record in the same tx before it commits. A *Replay: answered
// before. A services conflict: the key was used for another request
// (idempotency_key_reused), or a claim committed without its answer (a card
// order waiting on Stripe) is still within its Lease; past it, the claim is
// taken over, as Begin does.
func (c *Claim) Take(tx *gorm.DB) error {
	r, err := c.store.claim(tx, c.User, c.Key, c.hash)
	if err != nil {
		return err
	}
	if r != nil {
		return &Replay{Response: *r}
	}
	return nil
}

// Record stores the answer to replay, in the tx that took the claim.
func (c *Claim) Record(tx *gorm.DB, r Response) error {
	return c.store.complete(tx, c.User, c.Key, r)
}

// Answer is what Record would write for r, for a caller that sends it in
// the tx that took the claim as part of a statement of its own.
func (c *Claim) Answer(r Response) (Answer, error) {
	return c.store.answer(c.User, c.Key, r)
}

// Remember stores an answer that booked nothing (a refusal: out of stock, a
// bad field), in a commit of its own, so that a retry gets the same answer.
// A claim taken meanwhile by a retry is left alone.
func (c *Claim) Remember(ctx context.Context, r Response) error {
	body, err := c.store.seal(r.Body)
	if err != nil {
		return err
	}
	now := c.store.now().UTC()
	row := models.IdempotencyKey{UserID: c.User, Key: c.Key, RequestHash: c.hash, CreatedAt: now, ExpiresAt: now.Add(TTL),
		Status: r.Status, ContentType: r.ContentType, Location: r.Location, ResponseBody: body}
	return c.store.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
}

// Abandon frees a claim taken and committed without its answer, when what
// it booked was undone afterwards (a card order whose payment could not
// start), so that a retry runs the request again. An answered claim stays.
func (c *Claim) Abandon(ctx context.Context) error {
	return c.store.db.WithContext(ctx).Where("user_id = ? AND key = ? AND status = 0", c.User, c.Key).
		Delete(&models.IdempotencyKey{}).Error
}
