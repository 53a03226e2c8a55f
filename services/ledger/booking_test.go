package ledger

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

// The contract's example product sold by card with an actual fee of Rs 87
// (the estimate was Rs 90), plus a second line sharing the fee by amount.
func TestBookSaleAndRefund(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		g := models.NewID()
		m1, m2 := models.NewID(), models.NewID()
		line := SaleLine{Line: 1, ProductID: models.NewID(), GroupID: g, Quantity: 1, UnitPrice: 300000, UnitMaterials: 50000,
			UnitPackaging: 5000, HourlyWage: 25000, Makers: []MakerMinutes{{m1, 180}, {m2, 60}}, PlatformFeeBPS: 1000,
			CollectiveFundBPS: 2000}
		second := line
		second.Line, second.UnitPrice, second.Quantity, second.UnitMaterials, second.UnitPackaging = 2, 50000, 2, 0, 0
		second.Makers = []MakerMinutes{{m2, 7}} // 7 min × 25000 ÷ 60 = 2916.67: 2916 a unit
		order := models.NewID()
		sale := Sale{OrderID: order, Lines: []SaleLine{line, second}, ProcessingFee: 11601, Currency: "PKR",
			Shipping: map[uuid.UUID]int64{g: 25000}}
		book := func() {
			t.Helper()
			if err := db.Transaction(func(tx *gorm.DB) error { _, err := l.BookSale(tx, sale); return err }); err != nil {
				t.Fatal(err)
			}
		}
		book()
		book() // the webhook and the confirmation both book: once
		var n int64
		db.Model(&models.LedgerTransaction{}).Count(&n)
		if n != 2 {
			t.Fatalf("%d transactions, want 2", n)
		}
		// Fee 11601 over 300000 and 100000: 8700 (11601 × 3/4 = 8700.75) and the rest, 2901.
		// Line 1: margin 300000 − 100000 − 55000 − 30000 − 8700 = 106300; fund 21260; group 85040.
		// Line 2: 100000 − 5832 − 10000 − 2901 = 81267; fund 16253; group 65014.
		want := map[string]int64{
			"artisan:" + m1.String() + ":payable": 75000,
			"artisan:" + m2.String() + ":payable": 25000 + 5832,
			"group:" + g.String() + ":materials":  50000, "group:" + g.String() + ":packaging": 5000,
			"group:" + g.String() + ":collective_fund":           21260 + 16253,
			"group:" + g.String() + ":undistributed_margin":      85040 + 65014,
			"group:" + g.String() + ":shipping":                  25000,
			"platform:" + uuid.Nil.String() + ":platform_fees":   30000 + 10000,
			"platform:" + uuid.Nil.String() + ":processing_fees": 11601,
			"platform:" + uuid.Nil.String() + ":card_receipts":   -(400000 + 25000),
		}
		balances := func() map[string]int64 {
			var as []models.LedgerAccount
			if err := db.Find(&as).Error; err != nil {
				t.Fatal(err)
			}
			out := map[string]int64{}
			for _, a := range as {
				out[a.OwnerKind+":"+a.OwnerID.String()+":"+a.Type] = a.Balance
			}
			return out
		}
		got := balances()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %d, want %d", k, got[k], v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("accounts %v", got)
		}

		for range 2 {
			if err := db.Transaction(func(tx *gorm.DB) error { _, err := l.BookRefund(tx, order); return err }); err != nil {
				t.Fatal(err)
			}
		}
		for k, v := range balances() {
			if v != 0 {
				t.Errorf("after the refund %s = %d", k, v)
			}
		}
		db.Model(&models.LedgerTransaction{}).Count(&n)
		if v, err := l.Verify(context.Background()); err != nil || !v.OK || n != 4 {
			t.Fatalf("%d transactions, verify %+v %v", n, v, err)
		}
	})
}
