package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/idempotency"
)

// Payout methods.
var payoutMethods = []string{"bank", "jazzcash", "easypaisa", "cash"}

// PayoutInput is a manager's record of money handed to an artisan.
type PayoutInput struct {
	ArtisanID uuid.UUID
	Amount    models.Money
	Method    string
	Reference string // the bank or wallet transaction id, or a receipt number for cash
	// Key is the client's Idempotency-Key. The booking's reference is
	// derived from it, so that a retry the claim no longer answers (its
	// record expired) still pays only once.
	Key string
	// Claim, when set, is the Idempotency-Key taken in the payout's
	// transaction; Answer renders the answer recorded with it, from the
	// payout and its receipt's code ("" for none), before the chain is
	// locked. Both or neither.
	Claim  *idempotency.Claim
	Answer func(p models.Payout, receipt string) (idempotency.Response, error)
}

// errPaidBefore ends the transaction of a payout whose key's booking was
// made before: nothing new is written, the claim included.
var errPaidBefore = errors.New("ledger: the payout was booked before under its key")

// CreatePayout records a payout to an artisan of a group the actor manages
// and takes it off her payable, in one transaction with its claim and its
// answer (in.Claim). It returns the answer recorded, nil without a claim or
// when the key's payout was booked before and the claim had lost its
// answer (the caller renders the payout returned). Errors: forbidden (not a
// producer), not_found (not the group's manager), validation_failed,
// insufficient_funds (more than her balance; however many are sent at once,
// her balance never goes below zero), and those of Claim.Take (a
// *idempotency.Replay among them).
func (s *Service) CreatePayout(ctx context.Context, actor services.Actor, groupID uuid.UUID, in PayoutInput) (models.Payout, *idempotency.Response, error) {
	in.Method, in.Reference = strings.TrimSpace(in.Method), strings.TrimSpace(in.Reference)
	ref := ""
	if in.Key != "" {
		sum := sha256.Sum256([]byte(groupID.String() + "\x00" + actor.UserID.String() + "\x00" + in.Key))
		ref = "payout:key:" + hex.EncodeToString(sum[:16])
	}
	var p, paid models.Payout
	var answer *idempotency.Response
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		answer = nil
		if in.Claim != nil {
			if err := in.Claim.Take(tx); err != nil {
				return err
			}
		}
		group, err := groups.Managed(tx, actor, groupID)
		if err != nil {
			return err
		}
		var artisan models.Artisan
		if err := tx.Where("id = ? AND group_id = ?", in.ArtisanID, groupID).Limit(1).Find(&artisan).Error; err != nil {
			return err
		}
		var fe services.FieldErrors
		fe.Check(artisan.ID == uuid.Nil, "artisan_id", "is not an artisan of this group")
		fe.Check(in.Amount.Amount <= 0 || in.Amount.Amount > maxAmount, "amount.amount", "must be above 0")
		fe.Check(in.Amount.Currency != s.opt.Currency, "amount.currency", "must be "+s.opt.Currency)
		fe.Check(!slices.Contains(payoutMethods, in.Method), "method", "must be bank, jazzcash, easypaisa or cash")
		fe.Check(!services.TextWithin(in.Reference, 0, 200), "reference", "must be at most 200 characters")
		if err := fe.Err(); err != nil {
			return err
		}

		// Everything but the booking is written before the chain's head is
		// locked: the payout's row names its transaction before it is
		// booked (its foreign key is checked at commit, migration 0026).
		p = models.Payout{ID: models.NewID(), GroupID: groupID, ArtisanID: artisan.ID, Amount: in.Amount.Amount,
			Currency: in.Amount.Currency, Method: in.Method, Reference: in.Reference, TransactionID: models.NewID(),
			CreatedBy: actor.UserID, CreatedAt: s.now()}
		memo, err := json.Marshal(map[string]string{"payout_id": p.ID.String(), "method": p.Method})
		if err != nil {
			return err
		}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		receipt := ""
		if s.opt.OnPayout != nil {
			if receipt, err = s.opt.OnPayout(tx, p, artisan, group); err != nil {
				return err
			}
		}
		if in.Claim != nil {
			r, err := in.Answer(p, receipt)
			if err != nil {
				return err
			}
			if err := in.Claim.Record(tx, r); err != nil {
				return err
			}
			answer = &r
		}

		e := Entry{ID: p.TransactionID, Reference: ref, Kind: KindPayout, GroupID: &groupID, Memo: string(memo), Postings: []Posting{
			{Owner: Artisan(artisan.ID, groupID), Type: TypePayable, Amount: -p.Amount, Currency: p.Currency},
			{Owner: Platform, Type: TypePaidOut, Amount: p.Amount, Currency: p.Currency},
		}}
		if e.Reference == "" {
			e.Reference = "payout:" + p.ID.String()
		}
		t, dup, err := s.PostTx(tx, e)
		var short *InsufficientFundsError
		switch {
		case errors.As(err, &short):
			return services.Conflict(services.CodeInsufficientFunds,
				"the artisan's balance is %s: a payout of %s is more than it", models.NewMoney(short.Balance, short.Currency),
				models.NewMoney(p.Amount, p.Currency))
		case errors.Is(err, ErrReferenceReused):
			return services.Conflict(services.CodeIdempotencyKeyReused, "this Idempotency-Key was used for another payout")
		case err != nil:
			return err
		case dup: // paid already under this key: the same payout
			if err := tx.Where("transaction_id = ?", t.ID).First(&paid).Error; err != nil {
				return err
			}
			return errPaidBefore
		}
		return nil
	})
	if errors.Is(err, errPaidBefore) {
		return paid, nil, nil
	}
	if err != nil {
		return models.Payout{}, nil, err
	}
	s.opt.Metrics.Payout(p.Amount, p.Currency)
	s.opt.Metrics.LedgerBooked(KindPayout, 1)
	return p, answer, nil
}

// Acknowledge records that the artisan confirmed a payout reached her: a
// manager of her group on her word, or an auditor assigned to the group who
// asked her (AcknowledgedAs says which, AcknowledgedBy who). A manager
// cannot speak for her against her own word: a payout she disputed by SMS
// is acknowledged only by an auditor. Errors: forbidden, not_found,
// validation_failed, invalid_state (acknowledged before, or disputed by her
// and the actor a manager).
func (s *Service) Acknowledge(ctx context.Context, actor services.Actor, payoutID uuid.UUID, note string) (models.Payout, error) {
	db := s.db.WithContext(ctx)
	var p models.Payout
	if err := db.Where("id = ?", payoutID).Limit(1).Find(&p).Error; err != nil {
		return p, err
	}
	if actor.Role != models.RoleAuditor && actor.Role != models.RoleProducer {
		return p, services.Forbidden("only the group's managers and auditors acknowledge payouts")
	}
	if p.ID == uuid.Nil {
		return p, services.NotFound("payout")
	}
	// An auditor asks the artisan only for groups assigned to her; a
	// producer speaks for artisans of the groups she manages.
	if _, err := groups.Readable(db, actor, p.GroupID); services.IsCode(err, services.CodeNotFound) {
		return p, services.NotFound("payout")
	} else if err != nil {
		return p, err
	}
	note = strings.TrimSpace(note)
	if !services.TextWithin(note, 0, 500) {
		return p, services.Invalid(map[string]string{"note": "must be at most 500 characters"})
	}
	now := s.now()
	as := models.AckManager
	q := db.Model(&models.Payout{}).Where("id = ? AND acknowledged_at IS NULL", p.ID)
	if actor.Role == models.RoleAuditor {
		as = models.AckAuditor
	} else {
		q = q.Where("NOT EXISTS (SELECT 1 FROM receipts r WHERE r.payout_id = payouts.id AND r.disputed_at IS NOT NULL)")
	}
	res := q.Updates(map[string]any{"acknowledged_at": now, "acknowledged_by": actor.UserID, "acknowledgement_note": note,
		"acknowledged_as": as})
	if res.Error != nil {
		return p, res.Error
	}
	if res.RowsAffected == 0 {
		if err := db.First(&p, "id = ?", p.ID).Error; err != nil {
			return p, err
		}
		if p.AcknowledgedAt == nil {
			return p, services.Conflict(services.CodeInvalidState,
				"the artisan disputed this payout by SMS: only an auditor assigned to the group, who asks her, can acknowledge it")
		}
		return p, services.Conflict(services.CodeInvalidState, "this payout was acknowledged already")
	}
	err := db.First(&p, "id = ?", p.ID).Error
	return p, err
}

// PayoutQuery filters a group's payouts.
type PayoutQuery struct {
	ArtisanID, Cursor string
	Limit             int
}

// Payouts lists a group's payouts newest first, a page at a time, for those
// who may read its books (groups.Readable). Errors: forbidden, not_found,
// bad_request (a malformed artisan_id or cursor).
func (s *Service) Payouts(ctx context.Context, actor services.Actor, groupID uuid.UUID, q PayoutQuery) ([]models.Payout, string, error) {
	db := s.db.WithContext(ctx)
	if _, err := groups.Readable(db, actor, groupID); err != nil {
		return nil, "", err
	}
	tx := db.Where("group_id = ?", groupID)
	if q.ArtisanID != "" {
		id, err := uuid.Parse(q.ArtisanID)
		if err != nil {
			return nil, "", services.BadRequest("artisan_id is not a UUID")
		}
		tx = tx.Where("artisan_id = ?", id)
	}
	scope := "payouts|" + groupID.String() + "|" + q.ArtisanID
	if q.Cursor != "" {
		var t time.Time
		var id uuid.UUID
		if err := s.cursor.Decode(q.Cursor, scope, &t, &id); err != nil {
			return nil, "", err
		}
		tx = tx.Where("(created_at, id) < (?, ?)", t.UTC(), id)
	}
	var ps []models.Payout
	if err := tx.Order("created_at DESC, id DESC").Limit(q.Limit + 1).Find(&ps).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(ps) > q.Limit {
		ps = ps[:q.Limit]
		last := ps[len(ps)-1]
		next = s.cursor.Encode(scope, last.CreatedAt.UTC(), last.ID)
	}
	return ps, next, nil
}
