// Package receipts gives every payout to an artisan who consented to SMS a
// receipt: a code and a message in her language, written in the
// transaction that writes the payout. She answers it by SMS, HAAN to
// confirm that the money reached her or NAHI to dispute it (Reply, an
// sms.Handler); her answer is the strongest acknowledgement a payout can
// have, and a dispute is a finding in the group's report. Anyone holding a
// code can check the payment behind it (Public), with no name, phone or
// artisan id in the answer.
package receipts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/page"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/sms"
)

// Message kinds in the outbox (sms.Outgoing.Kind).
const (
	KindReceipt = "receipt" // a payout's receipt
	KindReply   = "reply"   // the answer to her HAAN or NAHI
	KindHelp    = "help"    // the answer to a text that is no answer, or names no receipt
)

// Options configure a Service.
type Options struct {
	// Box opens the artisans' sealed numbers and finds a reply's sender by
	// the keyed hash of her number. Without it no number can be read: no
	// receipt is sent and no reply is matched.
	Box       *pii.Box
	Ledger    *ledger.Service // the payments' inclusion proofs
	CursorKey []byte          // signs list cursors
	Lookups   LookupLimit     // GET /receipts/{code}; zero: 10 a minute
	// Throttle counts a request of a public route against a quota per
	// client address (auth.Service.Throttle); required.
	Throttle func(ctx context.Context, q services.Quota, clientIP string) error
	Now      func() time.Time
	Logger   *slog.Logger // nil: discard
}

// Service is the receipts.
type Service struct {
	db     *gorm.DB
	opt    Options
	cursor page.Codec
	log    *slog.Logger
}

// New returns the receipts service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if opt.Ledger == nil || len(opt.CursorKey) == 0 || opt.Throttle == nil {
		return nil, errors.New("receipts: the ledger, a cursor key and a throttle are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Lookups = opt.Lookups.withDefaults()
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, opt: opt, cursor: page.NewCodec(opt.CursorKey), log: log}, nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// OnPayout is ledger.Options.OnPayout: inside the transaction of a new
// payout, before the group's chain is locked, it puts the receipt's SMS in
// the outbox, if the artisan consented to SMS and has a sealed number, and
// returns the receipt's code and its row to write once the payout's exists.
// No consent or no number: nothing (the payout stands without a receipt).
// An error rolls the payout back.
func (s *Service) OnPayout(tx *gorm.DB, p models.Payout, a models.Artisan, g models.Group) (ledger.PayoutReceipt, error) {
	if !a.SMSConsent || a.PhoneSealed == nil || !pii.IsSealed(*a.PhoneSealed) {
		return ledger.PayoutReceipt{}, nil
	}
	if s.opt.Box == nil {
		s.log.Warn("receipts: no PII key is configured, so a payout to an artisan who consented to SMS gets no receipt",
			"payout_id", p.ID)
		return ledger.PayoutReceipt{}, nil
	}
	// The mask is what message lists show; a number that does not open
	// under the keys held is still queued, and the sender reports it failed.
	masked := pii.Mask("")
	if phone, err := s.opt.Box.Open(*a.PhoneSealed); err == nil {
		masked = pii.Mask(phone)
	} else {
		s.log.Error("receipts: the artisan's sealed number does not open under the configured PII keys", "artisan_id", a.ID)
	}
	now := s.now()
	code, err := NewCode()
	if err != nil {
		return ledger.PayoutReceipt{}, err
	}
	r := models.Receipt{ID: models.NewID(), PayoutID: p.ID, GroupID: p.GroupID, ArtisanID: a.ID, Code: code,
		Language: language(a.Language), CreatedAt: now}
	text := ReceiptText(r.Language, g.Name, models.NewMoney(p.Amount, p.Currency), p.Method, r.Code)
	if !text.Fits() {
		return ledger.PayoutReceipt{}, fmt.Errorf("receipts: the %s receipt does not fit two segments", r.Language)
	}
	id, err := sms.Enqueue(tx, sms.Outgoing{GroupID: &p.GroupID, ArtisanID: &a.ID, Kind: KindReceipt,
		ToSealed: *a.PhoneSealed, ToMasked: masked, Text: text.Body, Unicode: text.Unicode}, now)
	if err != nil {
		return ledger.PayoutReceipt{}, err
	}
	r.MessageID = &id
	write := func(tx *gorm.DB) error {
		// The code is in the SMS and the payout's answer already: a code
		// taken (one chance in 2^50 per receipt held) fails the payout, and
		// its retry draws another.
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "code"}}, DoNothing: true}).Create(&r)
		if res.Error == nil && res.RowsAffected != 1 {
			return errors.New("receipts: the code drawn for a receipt is taken")
		}
		return res.Error
	}
	return ledger.PayoutReceipt{Code: code, Write: write}, nil
}
