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

// codeDraws bounds the draws of a fresh code. With 2^50 codes a second draw
// is already a once-in-a-lifetime event; five that all collide mean
// something is wrong with the random source.
const codeDraws = 5

// OnPayout is ledger.Options.OnPayout: inside the transaction that writes a
// new payout, it writes the payout's receipt and puts its SMS in the
// outbox, if the artisan consented to SMS and has a sealed number, and
// returns the receipt's code. No consent or no number: nothing (the payout
// stands without a receipt). An error rolls the payout back.
func (s *Service) OnPayout(tx *gorm.DB, p models.Payout, a models.Artisan, g models.Group) (string, error) {
	if !a.SMSConsent || a.PhoneSealed == nil || !pii.IsSealed(*a.PhoneSealed) {
		return "", nil
	}
	if s.opt.Box == nil {
		s.log.Warn("receipts: no PII key is configured, so a payout to an artisan who consented to SMS gets no receipt",
			"payout_id", p.ID)
		return "", nil
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
	r := models.Receipt{ID: models.NewID(), PayoutID: p.ID, GroupID: p.GroupID, ArtisanID: a.ID,
		Language: language(a.Language), CreatedAt: now}
	text := func() (Text, error) {
		t := ReceiptText(r.Language, g.Name, models.NewMoney(p.Amount, p.Currency), p.Method, r.Code)
		if !t.Fits() {
			return t, fmt.Errorf("receipts: the %s receipt does not fit two segments", r.Language)
		}
		return t, nil
	}
	// The SMS first, with the code drawn, so that the receipt names it as it
	// is written; a code taken already (no such draw has happened yet) is
	// drawn again and the SMS's text changed with it.
	for draw := 1; ; draw++ {
		code, err := NewCode()
		if err != nil {
			return "", err
		}
		r.Code = code
		t, err := text()
		if err != nil {
			return "", err
		}
		if r.MessageID == nil {
			id, err := sms.Enqueue(tx, sms.Outgoing{GroupID: &p.GroupID, ArtisanID: &a.ID, Kind: KindReceipt,
				ToSealed: *a.PhoneSealed, ToMasked: masked, Text: t.Body, Unicode: t.Unicode}, now)
			if err != nil {
				return "", err
			}
			r.MessageID = &id
		} else if err := tx.Model(&models.SMSMessage{}).Where("id = ?", *r.MessageID).
			Updates(map[string]any{"body": t.Body, "unicode": t.Unicode}).Error; err != nil {
			return "", err
		}
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "code"}}, DoNothing: true}).Create(&r)
		if res.Error != nil {
			return "", res.Error
		}
		if res.RowsAffected == 1 {
			return r.Code, nil
		}
		if draw == codeDraws {
			return "", fmt.Errorf("receipts: %d codes drawn and every one taken", codeDraws)
		}
	}
}
