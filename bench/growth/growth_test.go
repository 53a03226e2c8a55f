// Package growth checks that the catalogue's pages cost the same on a large
// catalogue as on a small one (issue 22): the same requests against two
// PostgreSQL databases seeded with karigar seed --products, 1,000 and
// 100,000 by default. It runs only when both are named:
//
//	KARIGAR_GROWTH_SMALL_URL=postgres://…/karigar_1k   (karigar seed --products 1000)
//	KARIGAR_GROWTH_LARGE_URL=postgres://…/karigar_100k (karigar seed --products 100000)
//
// TestGrowthPlans sends each request once to each database, records the
// statements the service sends, and runs EXPLAIN (ANALYZE, BUFFERS) on each
// with its arguments: a statement whose plan reads more than 1.5 times the
// pages at the large size (plus a few for the taller indexes) fails, since
// its time grows with the catalogue; the plans are written to
// KARIGAR_GROWTH_EXPLAIN_DIR when set. BenchmarkGrowth measures the same
// requests through the API's handler, small and large in turn; the
// HTTP-level figures come from vegeta: run.sh in this folder.
package growth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/pii"
)

// requests are the pages the growth check holds flat: the categories with
// their counts, the category list, lists by price in a province, and search
// as typed (Roman Urdu and Urdu) and misspelt.
var requests = []struct{ name, path string }{
	{"categories", "/api/v1/categories"},
	{"category", "/api/v1/products?category=textiles&limit=20"},
	{"sindh-price", "/api/v1/products?province=sindh&sort=price_asc"},
	// A province whose cheapest products are dear: read through the price
	// index alone, its first page lies far along it on a large catalogue.
	{"balochistan-price", "/api/v1/products?province=balochistan&sort=price_asc"},
	{"search-ralli", "/api/v1/products?q=ralli"},
	{"search-urdu", "/api/v1/products?q=%D8%B1%D9%84%DB%8C"}, // رلی
	{"search-typo", "/api/v1/products?q=rali"},
}

// sizes are the two databases, small first.
func sizes(tb testing.TB) []struct{ name, url string } {
	small, large := os.Getenv("KARIGAR_GROWTH_SMALL_URL"), os.Getenv("KARIGAR_GROWTH_LARGE_URL")
	if small == "" || large == "" {
		tb.Skip("KARIGAR_GROWTH_SMALL_URL and KARIGAR_GROWTH_LARGE_URL name the two seeded databases")
	}
	return []struct{ name, url string }{{"small", small}, {"large", large}}
}

// recorder keeps the statements sent while on: those of the database's
// pool, where they leave for PostgreSQL, whether gorm built them or not.
type recorder struct {
	mu  sync.Mutex
	log *models.StatementLog
}

func (r *recorder) take(fn func()) []models.Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.Reset()
	fn()
	return r.log.Statements()
}

// server is the API's handler over the database at url, wired as the
// binary wires it, with the statements it sends recorded on demand.
func server(tb testing.TB, url string) (http.Handler, *gorm.DB, *recorder) {
	tb.Helper()
	log := slog.New(slog.DiscardHandler)
	db, err := models.Open(context.Background(), url, models.OpenOptions{Logger: log, MaxOpenConns: 10}) // two at once within a shared server's max_connections
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = models.Close(db) })
	if pending, err := models.Pending(context.Background(), db); err != nil || len(pending) > 0 {
		tb.Fatalf("%s lacks migrations %v (%v): run karigar migrate and karigar seed --products N on it", url, pending, err)
	}
	db, statements := models.LogStatements(db)
	rec := &recorder{log: statements}
	box, err := pii.New(pii.NewKey())
	if err != nil {
		tb.Fatal(err)
	}
	secret := []byte(strings.Repeat("g", 32))
	svc, err := api.Build(db, api.Wiring{Currency: "PKR", Secret: secret, PII: box, Logger: log,
		LedgerKey: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), PlatformFeeBPS: 1000, ProcessingFeeBPS: 300})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := api.New(api.Config{DB: db, Services: svc, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	return srv.Handler(), db, rec
}

func get(tb testing.TB, h http.Handler, path string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) on s, returning the plan as text
// and the shared pages it read (hit or not), planning included.
func explain(tb testing.TB, db *gorm.DB, s models.Statement) (string, int) {
	tb.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	// Once first, so that the measured run finds the pages cached as a
	// server under load does, and the planner's caches warm.
	if _, err := sqlDB.ExecContext(ctx, "EXPLAIN (ANALYZE) "+s.SQL, s.Args...); err != nil {
		tb.Fatalf("%v\n%s", err, s.SQL)
	}
	var raw []byte
	if err := sqlDB.QueryRowContext(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+s.SQL, s.Args...).Scan(&raw); err != nil {
		tb.Fatal(err)
	}
	var plans []struct {
		Plan struct {
			Hit  int `json:"Shared Hit Blocks"`
			Read int `json:"Shared Read Blocks"`
		}
	}
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		tb.Fatalf("%v: %s", err, raw)
	}
	rows, err := sqlDB.QueryContext(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+s.SQL, s.Args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			tb.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	return b.String(), plans[0].Plan.Hit + plans[0].Plan.Read
}

var blank = regexp.MustCompile(`\s+`)

// TestGrowthPlans holds every statement of every request to the pages it
// reads at the small size: at most 1.5 times as many at the large size,
// plus 20 (a B-tree one level taller, a few more heap pages).
func TestGrowthPlans(t *testing.T) {
	dir := os.Getenv("KARIGAR_GROWTH_EXPLAIN_DIR")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	type measured struct {
		sent  []models.Statement
		pages []int
		plans []string
	}
	at := map[string][]measured{}
	for _, size := range sizes(t) {
		h, db, rec := server(t, size.url)
		var count int64
		if err := db.Table("products").Where("status = 'published'").Count(&count).Error; err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d published products", size.name, count)
		for _, r := range requests {
			get(t, h, r.path) // warm
			sent := rec.take(func() { get(t, h, r.path) })
			m := measured{sent: sent}
			for _, s := range sent {
				plan, pages := explain(t, db, s)
				m.pages, m.plans = append(m.pages, pages), append(m.plans, plan)
			}
			at[r.name] = append(at[r.name], m)
			if dir != "" {
				var b strings.Builder
				fmt.Fprintf(&b, "-- GET %s on %s (%d published products), %s\n", r.path, size.name, count, time.Now().UTC().Format(time.RFC3339))
				for i, s := range sent {
					fmt.Fprintf(&b, "\n-- statement %d of %d, %d shared pages\n%s\n-- arguments: %v\n\n%s", i+1, len(sent), m.pages[i],
						blank.ReplaceAllString(s.SQL, " "), s.Args, m.plans[i])
				}
				if err := os.WriteFile(filepath.Join(dir, r.name+"-"+size.name+".txt"), []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	names := make([]string, 0, len(at))
	for n := range at {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		small, large := at[n][0], at[n][1]
		if len(small.sent) != len(large.sent) {
			t.Errorf("%s: %d statements at the small size, %d at the large", n, len(small.sent), len(large.sent))
			continue
		}
		for i := range small.sent {
			t.Logf("%s statement %d: %d pages small, %d large", n, i+1, small.pages[i], large.pages[i])
			if float64(large.pages[i]) > 1.5*float64(small.pages[i])+20 {
				t.Errorf("%s, statement %d reads %d pages at the large size, %d at the small: it grows with the catalogue\n%s\n%s",
					n, i+1, large.pages[i], small.pages[i], blank.ReplaceAllString(large.sent[i].SQL, " "), large.plans[i])
			}
		}
	}
}

// BenchmarkGrowth serves each request through the API's handler from 32
// goroutines on each size in turn; compare the sizes' ns/op and p99-ns
// with benchstat, or read the ratio off one run of -count 2.
func BenchmarkGrowth(b *testing.B) {
	type target struct {
		name string
		h    http.Handler
	}
	var targets []target
	for _, size := range sizes(b) {
		h, _, _ := server(b, size.url)
		targets = append(targets, target{size.name, h})
	}
	for _, r := range requests {
		for _, t := range targets {
			b.Run(r.name+"/"+t.name, func(b *testing.B) {
				get(b, t.h, r.path)
				var mu sync.Mutex
				var took []time.Duration
				b.SetParallelism(16) // 32 goroutines on 2 cores, as vegeta's -workers 32
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					var mine []time.Duration
					for pb.Next() {
						start := time.Now()
						rec := httptest.NewRecorder()
						t.h.ServeHTTP(rec, httptest.NewRequest("GET", r.path, nil))
						if rec.Code != http.StatusOK {
							b.Errorf("GET %s: %d", r.path, rec.Code)
							return
						}
						_, _ = io.Copy(io.Discard, rec.Body)
						mine = append(mine, time.Since(start))
					}
					mu.Lock()
					took = append(took, mine...)
					mu.Unlock()
				})
				b.StopTimer()
				if len(took) > 0 {
					sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
					b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns")
				}
			})
		}
	}
}
