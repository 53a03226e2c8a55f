package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/seed"
)

// The checkout benchmarks of the orders issue: 64 buyers place
// cash-on-delivery orders (so no payment provider is measured) through the
// real server over TCP, on PostgreSQL, and afterwards every unit of stock
// taken must be accounted for by the lines of the orders that exist. Run
// with:
//
//	KARIGAR_TEST_DATABASE_URL='postgres://…' go test -run '^$' -bench Checkout -benchtime 20s ./api/
const (
	checkoutBuyers = 64
	checkoutGroups = 5
	checkoutStock  = 1_000_000 // per product: no order is refused for stock
	checkoutPool   = 40        // database connections of the server
)

// BenchmarkCheckoutSpread: orders over 1,000 products, so buyers rarely
// wait on each other's stock row locks. Target: ≥ 300 orders/s on 2 cores.
func BenchmarkCheckoutSpread(b *testing.B) { benchmarkCheckout(b, 1000) }

// BenchmarkCheckoutHot: orders over 10 products, so most orders queue for
// the row locks of products other buyers are taking. Target: ≥ 150 orders/s.
func BenchmarkCheckoutHot(b *testing.B) { benchmarkCheckout(b, 10) }

// benchmarkCheckout sets a catalogue of n products up once and measures
// checkout in a sub-benchmark, which the framework runs with growing b.N
// on the same catalogue; stock and sales are checked after every run.
func benchmarkCheckout(b *testing.B, n int) {
	if os.Getenv(modelstest.EnvPostgres) == "" {
		b.Skip(modelstest.EnvPostgres + " is not set: the checkout benchmarks run on PostgreSQL only")
	}
	f := newCheckoutFixture(b, n)
	b.Run("postgres", f.run)
}

// checkoutFixture is one server on its own PostgreSQL schema, reached over
// TCP, with a catalogue and signed-in buyers. sold and placed accumulate
// what the server confirmed over every run.
type checkoutFixture struct {
	db       *gorm.DB
	url      string
	client   *http.Client
	products []uuid.UUID
	tokens   []string
	sold     map[uuid.UUID]int64
	placed   int64
}

// loadServer serves a fresh PostgreSQL schema through the real server over
// TCP, for the benchmarks; its client keeps connections alive for as many
// clients as the benchmark runs.
func loadServer(b *testing.B, clients int) (*gorm.DB, api.Services, string, *http.Client) {
	b.Helper()
	ctx := context.Background()
	db, err := models.Open(ctx, modelstest.URL(b, "postgres"), models.OpenOptions{MaxOpenConns: checkoutPool})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = models.Close(db) })
	if _, err := models.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	w := testWiring()
	srv, svc := newServer(b, db, w, api.Config{DB: db, Logger: w.Logger})
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	transport := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients}
	b.Cleanup(transport.CloseIdleConnections)
	return db, svc, ts.URL, &http.Client{Transport: transport, Timeout: time.Minute}
}

func newCheckoutFixture(b *testing.B, products int) *checkoutFixture {
	b.Helper()
	ctx := context.Background()
	db, svc, base, client := loadServer(b, checkoutBuyers)
	if _, err := seed.Bulk(ctx, seed.Services{Auth: svc.Auth, Groups: svc.Groups, Catalog: svc.Catalog, Currency: "PKR"},
		seed.BulkSize{Products: products, Groups: checkoutGroups, Artisans: 3 * checkoutGroups}); err != nil {
		b.Fatal(err)
	}
	// A fresh, vacuumed table, as a live catalogue would be between sales.
	for _, sql := range []string{"UPDATE products SET stock = " + fmt.Sprint(checkoutStock), "VACUUM ANALYZE products, product_makers, producer_groups, users"} {
		if err := db.Exec(sql).Error; err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	f := &checkoutFixture{db: db, url: base + api.Base + "/orders", client: client,
		tokens: make([]string, checkoutBuyers), sold: map[uuid.UUID]int64{}}
	if err := db.Model(&models.Product{}).Order("id").Pluck("id", &f.products).Error; err != nil {
		b.Fatal(err)
	}
	if len(f.products) != products {
		b.Fatalf("%d products set up, want %d", len(f.products), products)
	}
	errs := make([]error, checkoutBuyers)
	inParallel(checkoutBuyers, func(i int) {
		s, err := svc.Auth.Register(ctx, auth.NewUser{Email: fmt.Sprintf("buyer%d@bench.example", i), Password: goodPassword,
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

// checkoutWorker is what one buyer's goroutine records in a run.
type checkoutWorker struct {
	latencies []time.Duration
	sold      map[uuid.UUID]int64
	placed    int64
	err       error
}

// run places b.N orders with checkoutBuyers buyers at once, each order 1–3
// distinct products of quantity 1–2, and reports orders/s (orders placed,
// over the wall time of the run), the p50 and p99 latency of a request and
// how long an order waited for a database connection.
func (f *checkoutFixture) run(b *testing.B) {
	workers := make([]checkoutWorker, checkoutBuyers)
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
		w := &workers[i]
		w.sold = map[uuid.UUID]int64{}
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
		for !failed.Load() && next.Add(1) <= int64(b.N) {
			items := f.pick(rng)
			began := time.Now()
			err := f.order(f.tokens[i], items)
			w.latencies = append(w.latencies, time.Since(began))
			if err != nil {
				w.err = err
				failed.Store(true)
				return
			}
			w.placed++
			for _, it := range items {
				w.sold[it.id] += int64(it.qty)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	poolWait := pool.Stats().WaitDuration - before.WaitDuration

	var latencies []time.Duration
	var placed int64
	for _, w := range workers {
		if w.err != nil {
			b.Fatal(w.err)
		}
		latencies = append(latencies, w.latencies...)
		placed += w.placed
		for id, q := range w.sold {
			f.sold[id] += q
		}
	}
	f.placed += placed
	f.checkNoOversell(b)
	slices.Sort(latencies)
	b.ReportMetric(float64(placed)/elapsed.Seconds(), "orders/s")
	b.ReportMetric(ms(percentile(latencies, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(latencies, 99)), "p99-ms")
	// Time spent waiting for a free database connection, per order.
	b.ReportMetric(ms(poolWait)/float64(placed), "pool-wait-ms/order")
}

type checkoutItem struct {
	id  uuid.UUID
	qty int
}

// pick chooses 1–3 distinct products, each of quantity 1–2.
func (f *checkoutFixture) pick(rng *rand.Rand) []checkoutItem {
	items := make([]checkoutItem, 0, 3)
	for want := 1 + rng.IntN(3); len(items) < want; {
		id := f.products[rng.IntN(len(f.products))]
		if !slices.ContainsFunc(items, func(it checkoutItem) bool { return it.id == id }) {
			items = append(items, checkoutItem{id: id, qty: 1 + rng.IntN(2)})
		}
	}
	return items
}

// order places one cash-on-delivery order under a new Idempotency-Key; any
// answer but 201 is an error (the stock never runs out here).
func (f *checkoutFixture) order(token string, items []checkoutItem) error {
	lines := make([]any, len(items))
	for i, it := range items {
		lines[i] = item(it.id.String(), it.qty)
	}
	return postOrder(f.client, f.url, token, orderBodyOf("cash_on_delivery", lines...))
}

// checkNoOversell fails the benchmark unless, for every product, the stock
// taken equals both the quantities on the lines of the orders that exist
// and the quantities of the orders the server confirmed, no stock is
// negative, and there are exactly as many orders as were confirmed.
func (f *checkoutFixture) checkNoOversell(b *testing.B) {
	b.Helper()
	var rows []struct {
		ID    uuid.UUID
		Stock int64
		Lines int64
	}
	err := f.db.Raw(`SELECT p.id, p.stock, COALESCE(s.quantity, 0) AS lines
		FROM products p LEFT JOIN (
			SELECT l.product_id, SUM(l.quantity) AS quantity
			FROM order_lines l JOIN orders o ON o.id = l.order_id
			GROUP BY l.product_id) s ON s.product_id = p.id`).Scan(&rows).Error
	if err != nil {
		b.Fatal(err)
	}
	if len(rows) != len(f.products) {
		b.Fatalf("%d products, want %d", len(rows), len(f.products))
	}
	for _, r := range rows {
		if taken := checkoutStock - r.Stock; r.Stock < 0 || taken != r.Lines || taken != f.sold[r.ID] {
			b.Fatalf("product %s: stock %d, so %d taken; %d on order lines; %d confirmed to buyers",
				r.ID, r.Stock, taken, r.Lines, f.sold[r.ID])
		}
	}
	var n int64
	if err := f.db.Model(&models.Order{}).Count(&n).Error; err != nil {
		b.Fatal(err)
	}
	if n != f.placed {
		b.Fatalf("%d orders stored, %d confirmed to buyers", n, f.placed)
	}
}

// percentile returns the p-th percentile of sorted (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (len(sorted)*p + 99) / 100
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// postOrder places an order over HTTP, as a buyer's app does, with a fresh
// Idempotency-Key; anything but 201 is an error.
func postOrder(client *http.Client, url, token string, order any) error {
	body, err := json.Marshal(order)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", uuid.NewString())
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /orders: %d %s", res.StatusCode, answer)
	}
	return nil
}
