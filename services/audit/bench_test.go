package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/pricing"
)

// BenchmarkGroupReport is a group's report over 10,000 orders and 1,000
// artisans, on PostgreSQL (the target: under 1 s):
//
//	KARIGAR_TEST_DATABASE_URL=postgres://... go test -run '^$' -bench GroupReport -benchtime 10x ./services/audit/
func BenchmarkGroupReport(b *testing.B) {
	if os.Getenv(modelstest.EnvPostgres) == "" {
		b.Skip(modelstest.EnvPostgres + " is not set: this benchmark is for PostgreSQL")
	}
	db := modelstest.Open(b, "postgres")
	ctx := context.Background()
	l, err := ledger.New(db, ledger.Options{Currency: "PKR", SigningKey: ed25519.NewKeyFromSeed(make([]byte, 32)),
		CursorKey: []byte("bench")})
	if err != nil {
		b.Fatal(err)
	}
	g := seedGroup(b, db, 1000)
	var artisans []uuid.UUID
	if err := db.Model(&models.Artisan{}).Where("group_id = ?", g.ID).Order("id").Pluck("id", &artisans).Error; err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	const orders, perTx = 10000, 200
	for batch := 0; batch < orders/perTx; batch++ {
		err := db.Transaction(func(tx *gorm.DB) error {
			for i := range perTx {
				n := batch*perTx + i
				makers := []ledger.MakerMinutes{{ArtisanID: artisans[n%1000], Minutes: 120}, {ArtisanID: artisans[(n*7+3)%1000], Minutes: 60}}
				if makers[0].ArtisanID == makers[1].ArtisanID {
					makers = makers[:1]
				}
				_, err := l.BookCashSale(tx, ledger.Sale{OrderID: models.NewID(), Currency: "PKR", Shipping: map[uuid.UUID]int64{g.ID: 25000},
					Lines: []ledger.SaleLine{{Line: 1, ProductID: models.NewID(), GroupID: g.ID, Quantity: int64(1 + n%3),
						Makers: makers, Unit: pricing.Inputs{Price: 300000, Materials: 50000, Packaging: 5000, HourlyWage: 25000,
							PlatformFeeBPS: 1000, ProcessingBPS: 300, CollectiveFundBPS: 2000}}}})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("booked %d orders in %s", orders, time.Since(start).Round(time.Millisecond))
	a, err := New(db, Options{Currency: "PKR", Ledger: l})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	actor := services.Actor{UserID: models.NewID(), Role: models.RoleAuditor}
	b.ResetTimer()
	for range b.N {
		r, err := a.GroupReport(ctx, actor, g.ID, "", "")
		if err != nil {
			b.Fatal(err)
		}
		if r.Orders != orders || len(r.Artisans) != 1000 || !r.LedgerVerified {
			b.Fatalf("report: %d orders, %d artisans, verified %v", r.Orders, len(r.Artisans), r.LedgerVerified)
		}
	}
}

// seedGroup makes a verified group with n artisans, directly in the database.
func seedGroup(b *testing.B, db *gorm.DB, n int) models.Group {
	b.Helper()
	u := models.User{ID: models.NewID(), Email: "bench@karigar.example", Name: "Bench", Role: models.RoleProducer,
		PasswordHash: "x", CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := db.Create(&u).Error; err != nil {
		b.Fatal(err)
	}
	g := models.Group{ID: models.NewID(), Name: "Bench group", Description: "x", District: "Multan", DistrictKey: "multan",
		Province: "punjab", Currency: "PKR", ProfitMethod: models.ShareByLaborHours, CollectiveFundBPS: 2000,
		Status: models.GroupVerified, CreatedBy: u.ID, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := db.Create(&g).Error; err != nil {
		b.Fatal(err)
	}
	as := make([]models.Artisan, n)
	for i := range as {
		as[i] = models.Artisan{ID: models.NewID(), GroupID: g.ID, DisplayName: fmt.Sprintf("Artisan %04d", i), FullName: "x",
			District: "Multan", Skills: []string{}, Active: true, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	}
	if err := db.CreateInBatches(as, 500).Error; err != nil {
		b.Fatal(err)
	}
	return g
}
