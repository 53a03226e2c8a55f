package api_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/pricing"
)

// BenchmarkPayouts is issue 22's payout load: 32 clients of one group's
// manager pay 1 paisa at a time to its two artisans, through the real
// server over TCP, on PostgreSQL; every payout waits for the group's chain
// head, so what counts is the work done while it is held. Afterwards the
// ledger must verify and hold exactly the payouts confirmed. Run with:
//
//	KARIGAR_TEST_DATABASE_URL='postgres://…' go test -run '^$' -bench Payouts -benchtime 10s ./api/
func BenchmarkPayouts(b *testing.B) {
	if os.Getenv(modelstest.EnvPostgres) == "" {
		b.Skip(modelstest.EnvPostgres + " is not set: the payout benchmark runs on PostgreSQL only")
	}
	const clients = 32
	ctx := context.Background()
	db, svc, base, client := loadServer(b, clients)

	sess, err := svc.Auth.Register(ctx, auth.NewUser{Email: "payouts@bench.example", Password: goodPassword, Name: "Bench manager",
		Role: models.RoleProducer})
	if err != nil {
		b.Fatal(err)
	}
	manager := services.Actor{UserID: sess.User.ID, Role: models.RoleProducer}
	name, desc, district, province, method := "Payout bench", "A group paying its artisans", "Tharparkar", "sindh", "labor_hours"
	fee, fund := models.NewMoney(0, "PKR"), 2000
	g, err := svc.Groups.Create(ctx, manager, groups.GroupInput{Name: &name, Description: &desc, District: &district,
		Province: &province, ShippingFee: &fee, ProfitMethod: &method, CollectiveFundBPS: &fund})
	if err != nil {
		b.Fatal(err)
	}
	var artisans []uuid.UUID
	for i := range 2 {
		dn, fn, gender, skills, public := fmt.Sprintf("Artisan %d", i+1), fmt.Sprintf("Bench Artisan %d", i+1), "woman",
			[]string{"ralli stitching"}, true
		a, err := svc.Groups.CreateArtisan(ctx, manager, g.ID, groups.ArtisanInput{DisplayName: &dn, FullName: &fn,
			District: &district, Gender: &gender, Skills: &skills, PublicProfile: &public})
		if err != nil {
			b.Fatal(err)
		}
		artisans = append(artisans, a.ID)
	}
	// Rs 1,000 of labour each (100,000 payouts of 1 paisa), through a sale
	// as the orders service books it; and each artisan's first payout opens
	// the platform's paid_out account, so the runs measure payouts alone.
	sale := ledger.Sale{OrderID: models.NewID(), Currency: "PKR"}
	for i, a := range artisans {
		sale.Lines = append(sale.Lines, ledger.SaleLine{Line: i + 1, ProductID: models.NewID(), GroupID: g.ID, Quantity: 1,
			Makers: []ledger.MakerMinutes{{ArtisanID: a, Minutes: 240}}, Unit: pricing.Inputs{Price: 300000, Materials: 50000, Packaging: 5000,
				HourlyWage: 25000, PlatformFeeBPS: 1000, ProcessingBPS: 300, CollectiveFundBPS: 2000}})
	}
	if err := db.Transaction(func(tx *gorm.DB) error { _, err := svc.Ledger.BookSale(tx, sale); return err }); err != nil {
		b.Fatal(err)
	}
	url := base + api.Base + "/groups/" + g.ID.String() + "/payouts"
	pay := func(i int) error {
		return postOrder(client, url, sess.AccessToken, map[string]any{"artisan_id": artisans[i%2].String(),
			"amount": pkr(1), "method": "cash"})
	}
	for i := range artisans {
		if err := pay(i); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Exec("VACUUM ANALYZE ledger_chains, ledger_accounts, ledger_transactions, ledger_postings, payouts, idempotency_keys, artisans, producer_groups, group_managers, users").Error; err != nil {
		b.Fatal(err)
	}
	paid := int64(len(artisans))

	b.Run("postgres", func(b *testing.B) {
		latencies := make([][]time.Duration, clients)
		errs := make([]error, clients)
		var next, done atomic.Int64
		var failed atomic.Bool
		b.ResetTimer()
		start := time.Now()
		inParallel(clients, func(i int) {
			for !failed.Load() && next.Add(1) <= int64(b.N) {
				began := time.Now()
				if err := pay(i); err != nil {
					errs[i] = err
					failed.Store(true)
					return
				}
				latencies[i] = append(latencies[i], time.Since(began))
				done.Add(1)
			}
		})
		elapsed := time.Since(start)
		b.StopTimer()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		paid += done.Load()
		var n int64
		if err := db.Model(&models.Payout{}).Count(&n).Error; err != nil || n != paid {
			b.Fatalf("%d payouts stored (%v), %d confirmed", n, err, paid)
		}
		all := slices.Concat(latencies...)
		slices.Sort(all)
		b.ReportMetric(float64(done.Load())/elapsed.Seconds(), "payouts/s")
		b.ReportMetric(ms(percentile(all, 50)), "p50-ms")
		b.ReportMetric(ms(percentile(all, 99)), "p99-ms")
	})
	v, err := svc.Ledger.Verify(ctx)
	if err != nil || !v.OK {
		b.Fatalf("the ledger does not verify after the payouts: %+v, %v", v, err)
	}
}
