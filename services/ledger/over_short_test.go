package ledger

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

// A sale whose id a client chose (a fair sale) books under a source of its
// own: given an order's id, it neither takes the order's references (so the
// order can still be booked) nor is refunded with the order.
func TestSaleSourceKeepsClientIDsOffOrders(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		g, maker := models.NewID(), models.NewID()
		id := models.NewID() // an order's id, sent by a client as a fair sale's
		line := SaleLine{Line: 1, ProductID: models.NewID(), GroupID: g, Quantity: 1, Unit: exampleUnit,
			Makers: []MakerMinutes{{maker, 240}}}
		book := func(source string) []models.LedgerTransaction {
			t.Helper()
			var ts []models.LedgerTransaction
			if err := db.Transaction(func(tx *gorm.DB) error {
				var err error
				ts, err = l.BookCashSale(tx, Sale{OrderID: id, Source: source, Lines: []SaleLine{line}, Currency: "PKR"})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ts
		}
		fair := book("fair-sale:" + id.String())
		order := book("")
		if fair[0].ID == order[0].ID || fair[0].Reference != "fair-sale:"+id.String()+":line:1:sale" ||
			order[0].Reference != "order:"+id.String()+":line:1:sale" {
			t.Fatalf("fair sale %s, order %s", fair[0].Reference, order[0].Reference)
		}
		if err := db.Transaction(func(tx *gorm.DB) error { _, err := l.BookRefund(tx, id); return err }); err != nil {
			t.Fatal(err)
		}
		var refunds []models.LedgerTransaction
		if err := db.Where("kind = ?", KindRefund).Find(&refunds).Error; err != nil {
			t.Fatal(err)
		}
		if len(refunds) != 1 || refunds[0].Reference != "order:"+id.String()+":line:1:refund" {
			t.Fatalf("refunds %+v", refunds)
		}
		if got := balance(t, db, Artisan(maker, g), TypePayable); got != 100000 {
			t.Fatalf("the maker holds %d after the order's refund, want the fair sale's Rs 1,000", got)
		}
	})
}

// A register's shortage takes the group's cash over/short account below
// zero (the one group account that may), an overage above; the books still
// verify, and a close booked again books nothing more.
func TestCashOverShort(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		short, over := models.NewID(), models.NewID()
		post := func(g uuid.UUID, ref string, diff int64) models.LedgerTransaction {
			t.Helper()
			var tr models.LedgerTransaction
			if err := db.Transaction(func(tx *gorm.DB) error {
				var err error
				tr, err = l.BookCashOverShort(tx, g, ref, diff, "PKR", `{}`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return tr
		}
		first := post(short, "close:short", -15000)
		if again := post(short, "close:short", -15000); again.ID != first.ID {
			t.Fatal("a close booked twice")
		}
		post(over, "close:over", 5000)
		if got := balance(t, db, Group(short), TypeCashOverShort); got != -15000 {
			t.Errorf("short by Rs 150: the account holds %d", got)
		}
		if got := balance(t, db, Group(over), TypeCashOverShort); got != 5000 {
			t.Errorf("over by Rs 50: the account holds %d", got)
		}
		if got := balance(t, db, Platform, TypeCashReceipts); got != 15000-5000 {
			t.Errorf("cash receipts hold %d", got)
		}
		v, err := l.Verify(ctx)
		if err != nil || !v.OK || !v.TrialBalanceOK {
			t.Fatalf("verify %+v %v", v, err)
		}
		for _, g := range []uuid.UUID{short, over} {
			if ok, err := l.VerifyGroup(ctx, g); err != nil || !ok {
				t.Fatalf("group %s: %v %v", g, ok, err)
			}
		}
	})
}
