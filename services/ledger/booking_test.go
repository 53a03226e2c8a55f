package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/pricing"
)

// The contract's example product sold by card with an actual fee of Rs 87
// (the estimate was Rs 90), plus a second line sharing the fee by amount.
func TestBookSaleAndRefund(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		g := models.NewID()
		m1, m2 := models.NewID(), models.NewID()
		line := SaleLine{Line: 1, ProductID: models.NewID(), GroupID: g, Quantity: 1, Unit: exampleUnit,
			Makers: []MakerMinutes{{m1, 180}, {m2, 60}}}
		second := line
		second.Line, second.Quantity = 2, 2
		second.Unit.Price, second.Unit.Materials, second.Unit.Packaging = 50000, 0, 0
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
		// Line 1, as shown: margin 300000 − 100000 − 55000 − 30000 − 9000 = 106000; fund 21200;
		// group 84800, and the estimate less the fee, 9000 − 8700: 85100.
		// Line 2, a unit: 50000 − 2916 − 5000 − 1500 = 40584; fund 8116; group 32468. Two units:
		// fund 16232; group 64936 + 3000 − 2901 = 65035.
		want := map[string]int64{
			"artisan:" + m1.String() + ":payable": 75000,
			"artisan:" + m2.String() + ":payable": 25000 + 5832,
			"group:" + g.String() + ":materials":  50000, "group:" + g.String() + ":packaging": 5000,
			"group:" + g.String() + ":collective_fund":           21200 + 16232,
			"group:" + g.String() + ":undistributed_margin":      85100 + 65035,
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

// exampleUnit is the contract's example product: Rs 3,000; 4 h at Rs 250;
// materials 500, packaging 50; platform fee 10%, card fee 3%, fund 20%.
var exampleUnit = pricing.Inputs{Price: 300000, Materials: 50000, Packaging: 5000, LaborMinutes: 240, HourlyWage: 25000,
	PlatformFeeBPS: 1000, ProcessingBPS: 300, CollectiveFundBPS: 2000}

// exampleLine is one unit of the example product, made by m.
func exampleLine(line int, g, m uuid.UUID) SaleLine {
	return SaleLine{Line: line, ProductID: models.NewID(), GroupID: g, Quantity: 1, Unit: exampleUnit,
		Makers: []MakerMinutes{{m, 240}}}
}

func book(t *testing.T, db *gorm.DB, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := db.Transaction(fn); err != nil {
		t.Fatal(err)
	}
}

// A processor fee above what a line's group margin can bear is borne by
// the platform instead of failing the sale; a price below its frozen costs
// (an order an older release took) books with the platform's fee cut.
func TestSaleFeeAboveMarginIsAbsorbed(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		g, m := models.NewID(), models.NewID()
		// As shown: fund 21200, group margin 84800, estimate 9000; the fee is 120000, 26200 beyond them.
		sale := Sale{OrderID: models.NewID(), Lines: []SaleLine{exampleLine(1, g, m)}, ProcessingFee: 120000, Currency: "PKR"}
		book(t, db, func(tx *gorm.DB) error { _, err := l.BookSale(tx, sale); return err })
		for _, c := range []struct {
			o    Owner
			typ  string
			want int64
		}{
			{Group(g), TypeUndistributed, 0}, {Group(g), TypeCollectiveFund, 21200}, {Artisan(m, g), TypePayable, 100000},
			{Platform, TypeProcessingFees, 120000}, {Platform, TypeFeesAbsorbed, -26200}, {Platform, TypePlatformFees, 30000},
		} {
			var a models.LedgerAccount
			db.Where("owner_kind = ? AND owner_id = ? AND type = ?", c.o.Kind, c.o.ID, c.typ).Limit(1).Find(&a)
			if a.Balance != c.want {
				t.Errorf("%s %s = %d, want %d", c.o.Kind, c.typ, a.Balance, c.want)
			}
		}
		g2, m2 := models.NewID(), models.NewID()
		short := exampleLine(1, g2, m2)
		short.Unit.Materials = 170000 // 300000 − 100000 − 175000 leaves 25000 for fees of 30000 + 9000
		book(t, db, func(tx *gorm.DB) error {
			_, err := l.BookCashSale(tx, Sale{OrderID: models.NewID(), Lines: []SaleLine{short}, Currency: "PKR"})
			return err
		})
		// The platform keeps 30000 − 14000 = 16000; the estimate, 9000, is the margin's (cash).
		if got := balance(t, db, Artisan(m2, g2), TypePayable); got != 100000 {
			t.Errorf("her labour booked %d", got)
		}
		if got := balance(t, db, Group(g2), TypeUndistributed); got != 9000 {
			t.Errorf("margin booked %d", got)
		}
		if got := balance(t, db, Platform, TypePlatformFees); got != 30000+16000 {
			t.Errorf("platform fees %d", got)
		}
	})
}

// A refund after the artisan was paid and the margin shared: the buyer gets
// everything back, the platform advances what the group no longer has, and
// nothing goes below zero.
func TestRefundAfterPayoutAndDistribution(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		g, m := models.NewID(), models.NewID()
		order := models.NewID()
		sale := Sale{OrderID: order, Lines: []SaleLine{exampleLine(1, g, m)}, ProcessingFee: 9000, Currency: "PKR"}
		book(t, db, func(tx *gorm.DB) error { _, err := l.BookSale(tx, sale); return err })
		// Fund 21200, undistributed 84800 (the fee was the estimate). She is paid
		// 60000 of her 100000, and 50000 of the margin is shared to her.
		pay := Entry{Reference: "payout:1", Kind: KindPayout, GroupID: &g,
			Postings: []Posting{pkr(Artisan(m, g), TypePayable, -60000), pkr(Platform, TypePaidOut, 60000)}}
		share := Entry{Reference: "distribution:1", Kind: KindDistribution, GroupID: &g,
			Postings: []Posting{pkr(Group(g), TypeUndistributed, -50000), pkr(Artisan(m, g), TypePayable, 50000)}}
		for _, e := range []Entry{pay, share} {
			if _, _, err := l.Post(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // booked once
			book(t, db, func(tx *gorm.DB) error { _, err := l.BookRefund(tx, order); return err })
		}
		// Her payable: 100000 − 60000 + 50000 = 90000 against 100000 refunded: 10000 advanced.
		// Undistributed: 34800 against 84800: 50000 advanced.
		for _, c := range []struct {
			o    Owner
			typ  string
			want int64
		}{
			{Artisan(m, g), TypePayable, 0}, {Group(g), TypeUndistributed, 0}, {Group(g), TypeCollectiveFund, 0},
			{Group(g), TypeMaterials, 0}, {Platform, TypeCardReceipts, 0}, {Platform, TypePaidOut, 60000},
			{Platform, TypeRefundsAdvanced, -60000},
		} {
			if got := balance(t, db, c.o, c.typ); got != c.want {
				t.Errorf("%s %s = %d, want %d", c.o.Kind, c.typ, got, c.want)
			}
		}
		var n int64
		db.Model(&models.LedgerTransaction{}).Where("kind = ?", KindRefund).Count(&n)
		if v, err := l.Verify(ctx); err != nil || !v.OK || !v.TrialBalanceOK || n != 1 {
			t.Fatalf("%d refunds, verify %+v %v", n, v, err)
		}
	})
}

// Sales of two groups' lines and sales of one group, booked at once, each
// in one database transaction with no retry: none deadlocks.
func TestMultiGroupSalesDoNotDeadlock(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		a, b := models.NewID(), models.NewID()
		ma, mb := models.NewID(), models.NewID()
		var wg sync.WaitGroup
		errs := make(chan error, 80)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					lines := []SaleLine{exampleLine(1, b, mb)}
					switch w % 3 {
					case 0:
						lines = []SaleLine{exampleLine(1, a, ma), exampleLine(2, b, mb)}
					case 1:
						lines = []SaleLine{exampleLine(1, b, mb), exampleLine(2, a, ma)}
					}
					sale := Sale{OrderID: models.NewID(), Lines: lines, ProcessingFee: 9000, Currency: "PKR"}
					errs <- db.Transaction(func(tx *gorm.DB) error { _, err := l.BookSale(tx, sale); return err })
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

// Random orders of random products, quantities and fees, booked by card
// or for cash: every line's postings are exactly pricing's booking of it,
// account by account, and the ledger verifies.
func TestBookedPostingsArePricingsSplit(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		r := rand.New(rand.NewPCG(7, 8))
		for range 40 {
			sale := Sale{OrderID: models.NewID(), Currency: "PKR", Shipping: map[uuid.UUID]int64{}}
			var total int64
			for n := range 1 + r.IntN(3) {
				g := models.NewID()
				sale.Shipping[g] = r.Int64N(30000)
				line := SaleLine{Line: n + 1, ProductID: models.NewID(), GroupID: g, Quantity: 1 + r.Int64N(20),
					Unit: pricing.Inputs{Price: 1 + r.Int64N(2_000_000), Materials: r.Int64N(300_000), Packaging: r.Int64N(20_000),
						HourlyWage: r.Int64N(60_000), PlatformFeeBPS: r.Int64N(2500), ProcessingBPS: r.Int64N(600),
						CollectiveFundBPS: r.Int64N(10001)}}
				for range 1 + r.IntN(3) {
					line.Makers = append(line.Makers, MakerMinutes{ArtisanID: models.NewID(), Minutes: 1 + r.Int64N(600)})
				}
				sale.Lines = append(sale.Lines, line)
				total += line.Unit.Price * line.Quantity
			}
			cash := r.IntN(2) == 0
			if !cash {
				sale.ProcessingFee = r.Int64N(total/10 + 1)
			}
			book(t, db, func(tx *gorm.DB) error {
				var err error
				if cash {
					_, err = l.BookCashSale(tx, sale)
				} else {
					_, err = l.BookSale(tx, sale)
				}
				return err
			})
			amounts := make([]int64, len(sale.Lines))
			for i, line := range sale.Lines {
				amounts[i] = line.Unit.Price * line.Quantity
			}
			fees, err := pricing.ApportionFee(sale.ProcessingFee, amounts)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range sale.Lines {
				in := line.Unit
				for _, m := range line.Makers {
					in.MakerMinutes = append(in.MakerMinutes, m.Minutes)
					in.LaborMinutes += m.Minutes
				}
				b, err := pricing.Book(in, line.Quantity, fees[i])
				if err != nil {
					t.Fatal(err)
				}
				receipts := TypeCardReceipts
				if cash {
					receipts = TypeCashReceipts
				}
				want := map[string]int64{
					"group:" + TypeMaterials: b.Materials, "group:" + TypePackaging: b.Packaging,
					"group:" + TypeCollectiveFund: b.CollectiveFund, "group:" + TypeUndistributed: b.GroupMargin,
					"group:" + TypeShipping: sale.Shipping[line.GroupID], "platform:" + TypePlatformFees: b.PlatformFee,
					"platform:" + TypeProcessingFees: b.Processing, "platform:" + TypeFeesAbsorbed: -b.Absorbed,
					"platform:" + receipts: -(b.Amount + sale.Shipping[line.GroupID]),
				}
				for j, m := range line.Makers {
					want["artisan:"+m.ArtisanID.String()] += b.MakerLabor[j]
				}
				got := linePostings(t, db, fmt.Sprintf("order:%s:line:%d:sale", sale.OrderID, line.Line))
				for k, v := range want {
					if got[k] != v {
						t.Fatalf("order %s line %d: %s booked %d, pricing says %d (%+v)", sale.OrderID, line.Line, k, got[k], v, b)
					}
				}
				for k, v := range got {
					if _, ok := want[k]; !ok && v != 0 {
						t.Fatalf("line %d: %s booked %d, not in pricing's split", line.Line, k, v)
					}
				}
			}
		}
		if v, err := l.Verify(context.Background()); err != nil || !v.OK || !v.TrialBalanceOK {
			t.Fatalf("verify %+v %v", v, err)
		}
	})
}

// linePostings sums a transaction's postings by "owner kind:type", and by
// "artisan:id" for a maker's payable.
func linePostings(t *testing.T, db *gorm.DB, reference string) map[string]int64 {
	t.Helper()
	var rows []struct {
		OwnerKind string
		OwnerID   uuid.UUID
		Type      string
		Amount    int64
	}
	if err := db.Table("ledger_postings p").Select("a.owner_kind, a.owner_id, a.type, p.amount").
		Joins("JOIN ledger_accounts a ON a.id = p.account_id").Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
		Where("t.reference = ?", reference).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("nothing booked as %s", reference)
	}
	out := map[string]int64{}
	for _, r := range rows {
		k := r.OwnerKind + ":" + r.Type
		if r.OwnerKind == "artisan" {
			k = "artisan:" + r.OwnerID.String()
		}
		out[k] += r.Amount
	}
	return out
}
