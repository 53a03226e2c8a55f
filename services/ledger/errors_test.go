package ledger

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services"
)

// What a request or the state of the books can cause reaches a client with
// its code; what only a bug can cause stays internal.
func TestErrorsAreInTheServicesFamilyUnlessBugs(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		ctx := context.Background()
		a := Artisan(models.NewID(), models.NewID())
		if _, _, err := l.Post(ctx, sale("s", a, 5000)); err != nil {
			t.Fatal(err)
		}

		_, _, err := l.Post(ctx, sale("s", a, 6000))
		if !errors.Is(err, ErrReferenceReused) || !services.IsCode(err, services.CodeConflict) {
			t.Errorf("reference reused: %v", err)
		}

		_, _, err = l.Post(ctx, Entry{Reference: "payout:too-much", Kind: KindPayout, GroupID: &a.GroupID,
			Postings: []Posting{pkr(a, TypePayable, -5001), pkr(Platform, TypePaidOut, 5001)}})
		var ife *InsufficientFundsError
		if !errors.As(err, &ife) || !services.IsCode(err, services.CodeInsufficientFunds) {
			t.Errorf("overdraft: %v", err)
		}

		err = db.Transaction(func(tx *gorm.DB) error { _, err := l.BookRefund(tx, models.NewID()); return err })
		if !services.IsCode(err, services.CodeInvalidState) {
			t.Errorf("refund of an order never sold: %v", err)
		}

		_, _, err = l.Post(ctx, Entry{Reference: "bad", Kind: KindTransfer,
			Postings: []Posting{pkr(Platform, TypeCardReceipts, -100), pkr(a, TypePayable, 99)}})
		if _, known := services.AsError(err); !errors.Is(err, ErrUnbalanced) || known {
			t.Errorf("unbalanced entry: %v, in the family: %v", err, known)
		}
	})
}
