package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
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
	"github.com/karigar/karigar/services/markets"
	"github.com/karigar/karigar/services/seed"
)

// BenchmarkCycleCheckout: 64 buyers place cash orders into an open order
// cycle over 5 slots of one pickup point, each order 1–3 of the cycle's 20
// offers (from 5 groups), through the real server over TCP on PostgreSQL:
// every order takes its slot's place, its offers' units and the stock in
// one transaction. Each run has a cycle of its own, and afterwards every
// slot's count, every offer's units and every product's stock must match
// the orders that exist. Run with:
//
//	KARIGAR_TEST_DATABASE_URL='postgres://…' go test -run '^$' -bench CycleCheckout -benchtime 20s ./api/
func BenchmarkCycleCheckout(b *testing.B) {
	if os.Getenv(modelstest.EnvPostgres) == "" {
		b.Skip(modelstest.EnvPostgres + " is not set: the checkout benchmarks run on PostgreSQL only")
	}
	f := newCycleBenchFixture(b)
	b.Run("postgres", f.run)
}

const (
	cycleBenchSlots  = 5
	cycleBenchOffers = 20
)

type cycleBenchFixture struct {
	db       *gorm.DB
	url      string
	client   *http.Client
	markets  *markets.Service
	manager  services.Actor
	group    uuid.UUID
	products []uuid.UUID
	tokens   []string
}

func newCycleBenchFixture(b *testing.B) *cycleBenchFixture {
	b.Helper()
	ctx := context.Background()
	db, svc, base, client := loadServer(b, checkoutBuyers)
	if _, err := seed.Bulk(ctx, seed.Services{Auth: svc.Auth, Groups: svc.Groups, Catalog: svc.Catalog, Currency: "PKR"},
		seed.BulkSize{Products: cycleBenchOffers, Groups: checkoutGroups, Artisans: 3 * checkoutGroups}); err != nil {
		b.Fatal(err)
	}
	for _, sql := range []string{"UPDATE products SET stock = " + fmt.Sprint(checkoutStock),
		"VACUUM ANALYZE products, product_makers, producer_groups, users"} {
		if err := db.Exec(sql).Error; err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	f := &cycleBenchFixture{db: db, url: base + api.Base + "/orders", client: client,
		markets: svc.Markets, tokens: make([]string, checkoutBuyers)}
	// seed.Bulk's one manager manages every group: she coordinates and makes the offers.
	var gm models.GroupManager
	if err := db.Order("group_id").First(&gm).Error; err != nil {
		b.Fatal(err)
	}
	f.manager, f.group = services.Actor{UserID: gm.UserID, Role: models.RoleProducer}, gm.GroupID
	if err := db.Model(&models.Product{}).Order("id").Pluck("id", &f.products).Error; err != nil {
		b.Fatal(err)
	}
	errs := make([]error, checkoutBuyers)
	inParallel(checkoutBuyers, func(i int) {
		s, err := svc.Auth.Register(ctx, auth.NewUser{Email: fmt.Sprintf("cyclebuyer%d@bench.example", i), Password: goodPassword,
			Name: "Bench buyer", Role: models.RoleBuyer})
		f.tokens[i], errs[i] = s.AccessToken, err
	})
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return f
}

// newCycle opens a cycle of its own for one run: five slots of the most
// orders a slot takes, and an uncapped offer of every product.
func (f *cycleBenchFixture) newCycle(b *testing.B) (uuid.UUID, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	opens, closes := now.Add(-time.Minute), now.Add(time.Hour)
	in := markets.CycleInput{Name: "Benchmark market", CoordinatorGroupID: f.group.String(), OpensAt: &opens, ClosesAt: &closes,
		PickupPoints: []markets.PickupInput{{Name: "Stall 1", Address: "Main Boulevard", District: "Lahore"}}}
	for i := range cycleBenchSlots {
		start, end, most := closes.Add(time.Duration(i)*time.Hour), closes.Add(time.Duration(i+1)*time.Hour), markets.MaxOrders
		in.PickupPoints[0].Slots = append(in.PickupPoints[0].Slots, markets.SlotInput{StartsAt: &start, EndsAt: &end, MaxOrders: &most})
	}
	c, err := f.markets.Create(ctx, f.manager, in)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range f.products {
		if _, err := f.markets.Offer(ctx, f.manager, c.ID, markets.OfferInput{ProductID: p.String()}); err != nil {
			b.Fatal(err)
		}
	}
	var slots []uuid.UUID
	for _, s := range c.PickupPoints[0].Slots {
		slots = append(slots, s.ID)
	}
	return c.ID, slots
}

// run places b.N orders into a new cycle with checkoutBuyers buyers at
// once, each in a random slot, and reports orders/s, the p50 and p99
// latency and the wait for a database connection per order.
func (f *cycleBenchFixture) run(b *testing.B) {
	if b.N > cycleBenchSlots*markets.MaxOrders {
		b.Fatalf("%d orders do not fit in %d slots of %d", b.N, cycleBenchSlots, markets.MaxOrders)
	}
	cycleID, slots := f.newCycle(b)
	latencies := make([][]time.Duration, checkoutBuyers)
	errs := make([]error, checkoutBuyers)
	var next atomic.Int64
	var failed atomic.Bool
	pool, err := f.db.DB()
	if err != nil {
		b.Fatal(err)
	}
	before := pool.Stats()
	b.ResetTimer()
	start := time.Now()
	inParallel(checkoutBuyers, func(i int) {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
		for !failed.Load() && next.Add(1) <= int64(b.N) {
			began := time.Now()
			err := f.order(f.tokens[i], cycleID, slots[rng.IntN(len(slots))], f.pick(rng))
			latencies[i] = append(latencies[i], time.Since(began))
			if err != nil {
				errs[i] = err
				failed.Store(true)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	poolWait := pool.Stats().WaitDuration - before.WaitDuration
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	f.check(b, cycleID, b.N)
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "orders/s")
	b.ReportMetric(ms(percentile(all, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 99)), "p99-ms")
	b.ReportMetric(ms(poolWait)/float64(b.N), "pool-wait-ms/order")
}

// pick chooses 1–3 distinct offered products, each of quantity 1–2.
func (f *cycleBenchFixture) pick(rng *rand.Rand) []checkoutItem {
	items := make([]checkoutItem, 0, 3)
	for want := 1 + rng.IntN(3); len(items) < want; {
		id := f.products[rng.IntN(len(f.products))]
		if !slices.ContainsFunc(items, func(it checkoutItem) bool { return it.id == id }) {
			items = append(items, checkoutItem{id: id, qty: 1 + rng.IntN(2)})
		}
	}
	return items
}

func (f *cycleBenchFixture) order(token string, cycleID, slotID uuid.UUID, items []checkoutItem) error {
	lines := make([]any, len(items))
	for i, it := range items {
		lines[i] = item(it.id.String(), it.qty)
	}
	return postOrder(f.client, f.url, token, cycleOrder(cycleID.String(), slotID.String(), lines...))
}

// check fails the benchmark unless the cycle holds exactly the orders
// placed, each slot counts the orders in it, and each offer the units on
// their lines.
func (f *cycleBenchFixture) check(b *testing.B, cycleID uuid.UUID, placed int) {
	b.Helper()
	var orders int64
	if err := f.db.Model(&models.Order{}).Where("order_cycle_id = ?", cycleID).Count(&orders).Error; err != nil {
		b.Fatal(err)
	}
	var slotsOff, offersOff int64
	if err := f.db.Raw(`SELECT count(*) FROM cycle_slots s WHERE s.cycle_id = ? AND s.taken <>
		(SELECT count(*) FROM orders o WHERE o.cycle_slot_id = s.id)`, cycleID).Scan(&slotsOff).Error; err != nil {
		b.Fatal(err)
	}
	if err := f.db.Raw(`SELECT count(*) FROM cycle_offers c WHERE c.cycle_id = ? AND c.sold <>
		(SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
		 WHERE o.order_cycle_id = c.cycle_id AND l.product_id = c.product_id)`, cycleID).Scan(&offersOff).Error; err != nil {
		b.Fatal(err)
	}
	var stockOff int64
	if err := f.db.Raw(`SELECT count(*) FROM products p WHERE ? - p.stock <>
		(SELECT coalesce(sum(l.quantity), 0) FROM order_lines l WHERE l.product_id = p.id)`, checkoutStock).Scan(&stockOff).Error; err != nil {
		b.Fatal(err)
	}
	if orders != int64(placed) || slotsOff != 0 || offersOff != 0 || stockOff != 0 {
		b.Fatalf("%d orders in the cycle, %d placed; %d slots, %d offers and %d products disagree with the orders",
			orders, placed, slotsOff, offersOff, stockOff)
	}
}
