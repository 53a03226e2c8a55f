package receipts

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/ledger"
)

// LookupLimit bounds the checks of receipt codes per client address in a
// fixed window, counted in the database so that every replica sees the same
// count. A code is 50 random bits: guessing 10 a minute, one address needs
// about 200 years (2^50 / (10 × 10^6) minutes) to hit any receipt at all
// among a million.
type LookupLimit struct {
	PerClient int           // default 10
	Window    time.Duration // default a minute
}

func (l LookupLimit) withDefaults() LookupLimit {
	if l.PerClient == 0 {
		l.PerClient = 10
	}
	if l.Window == 0 {
		l.Window = time.Minute
	}
	return l
}

// Public is a receipt as anyone holding its code may see it: the payment,
// its status and the group, and the proof that it is in the books. No
// name, phone number or artisan id.
type Public struct {
	Code      string
	Amount    models.Money
	Method    string
	PaidAt    time.Time
	Status    string
	GroupID   uuid.UUID
	GroupName string
	Proof     *ledger.Proof // the payment's inclusion proof (services/ledger)
}

// Public looks a receipt up by its code, read forgivingly (ParseCode), for
// anyone: no login, but at most LookupLimit.PerClient checks per window from
// one client address (an IPv6 address counts as its /64), whether the code
// is known or not. Errors: rate_limited (with the wait), not_found (no such
// code, or not a code).
func (s *Service) Public(ctx context.Context, clientIP, raw string) (Public, error) {
	if err := s.countLookup(ctx, clientIP); err != nil {
		return Public{}, err
	}
	code, ok := ParseCode(raw)
	if !ok {
		return Public{}, services.NotFound("receipt")
	}
	var row struct {
		models.Receipt
		MessageStatus *string
		SentAt        *time.Time
		Amount        int64
		Currency      string
		Method        string
		PaidAt        time.Time
		TransactionID uuid.UUID
		GroupName     string
	}
	err := s.db.WithContext(ctx).Table("receipts r").
		Select("r.*, m.status AS message_status, m.sent_at, p.amount, p.currency, p.method, p.created_at AS paid_at, "+
			"p.transaction_id, g.name AS group_name").
		Joins("JOIN payouts p ON p.id = r.payout_id").Joins("JOIN producer_groups g ON g.id = r.group_id").
		Joins("LEFT JOIN sms_messages m ON m.id = r.message_id").
		Where("r.code = ?", code).Limit(1).Scan(&row).Error
	if err != nil {
		return Public{}, err
	}
	if row.ID == uuid.Nil {
		return Public{}, services.NotFound("receipt")
	}
	out := Public{Code: row.Code, Amount: models.NewMoney(row.Amount, row.Currency), Method: row.Method, PaidAt: row.PaidAt.UTC(),
		Status: stateOf(row.Receipt, row.MessageStatus, row.SentAt).Status, GroupID: row.GroupID, GroupName: row.GroupName}
	out.Proof, err = s.inclusionProof(ctx, row.TransactionID)
	return out, err
}

// countLookup counts a check against the client's address before the code
// is read, with the one limiter of public routes (auth.Service.Throttle):
// counted in the database, so that checks sent in parallel to several
// replicas all count.
func (s *Service) countLookup(ctx context.Context, clientIP string) error {
	l := s.opt.Lookups
	return s.opt.Throttle(ctx, services.Quota{Policy: "receipt-lookups", Limit: l.PerClient, Window: l.Window}, clientIP)
}
