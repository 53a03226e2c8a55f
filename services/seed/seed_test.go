package seed

import (
	"context"
	"fmt"
	"golang.org/x/crypto/bcrypt"
	"log/slog"
	"testing"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/pii"
)

func TestDemoSeedsOnceThroughTheServices(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newServices(t, db)
		c := s.Catalog
		r, err := Demo(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		if r.Groups != len(demoGroups) || r.Artisans < 50 || r.Products < 140 || r.Photos != len(demoGroups) || r.Skipped != 0 {
			t.Fatalf("first run: %+v", r)
		}
		var published, verified int64
		if err := db.Model(&models.Product{}).Where("status = ?", models.ProductPublished).Count(&published).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&models.Group{}).Where("status = ?", models.GroupVerified).Count(&verified).Error; err != nil {
			t.Fatal(err)
		}
		if int(published) != r.Products || int(verified) != r.Groups {
			t.Fatalf("%d published of %d, %d verified of %d", published, r.Products, verified, r.Groups)
		}
		again, err := Demo(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		if again.Groups != 0 || again.Products != 0 || again.Skipped != len(demoGroups) {
			t.Fatalf("second run: %+v", again)
		}
		items, _, err := c.List(t.Context(), catalog.Query{Q: "ajrak", Limit: 50})
		if err != nil || len(items) == 0 {
			t.Fatalf("search of the demo data: %d items, %v", len(items), err)
		}
		// The first product of each group has a drawn picture, stored in its
		// three sizes, with the thumbnail the catalogue shows.
		all, _, err := c.List(t.Context(), catalog.Query{Limit: 100, Sort: catalog.SortNewest})
		if err != nil {
			t.Fatal(err)
		}
		var thumbs int
		for _, it := range all {
			if it.ThumbKey != nil {
				thumbs++
			}
		}
		var photos int64
		if err := db.Model(&models.ProductImage{}).Count(&photos).Error; err != nil {
			t.Fatal(err)
		}
		if thumbs == 0 || photos != int64(len(demoGroups)) {
			t.Fatalf("%d photos, %d thumbnails in the first catalogue page", photos, thumbs)
		}
		keys, err := s.Media.Storage().List(t.Context(), "products/")
		if err != nil || len(keys) != 3*len(demoGroups) {
			t.Fatalf("stored %d files (%v)", len(keys), err)
		}
	})
}

func TestBulkGeneratesAListableCatalogue(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newServices(t, db)
		c := s.Catalog
		r, err := Bulk(t.Context(), s, BulkSize{Products: 600, Groups: 4, Artisans: 12})
		if err != nil {
			t.Fatal(err)
		}
		if r.Groups != 4 || r.Artisans != 12 || r.Products != 600 {
			t.Fatalf("report %+v", r)
		}
		var makers int64
		if err := db.Model(&models.ProductMaker{}).Count(&makers).Error; err != nil || makers != 600 {
			t.Fatalf("%d makers, %v", makers, err)
		}
		items, next, err := c.List(t.Context(), catalog.Query{Q: "ralli", Limit: 20})
		if err != nil || len(items) != 20 || next == "" {
			t.Fatalf("search: %d items, next %q, %v", len(items), next, err)
		}
		if _, err := Bulk(t.Context(), s, BulkSize{Products: 1, Groups: 2, Artisans: 1}); err == nil {
			t.Fatal("fewer artisans than groups was accepted")
		}
	})
}

// A bulk seed leaves the planner's statistics of what it wrote: without
// them PostgreSQL plans the new rows as an empty table (the Sindh list by
// price fell from ~900 to 11 requests a second after a 100,000-product
// seed), and this PostgreSQL, like any fresh import, has no autoanalyze yet.
func TestBulkSeedAnalysesWhatItWrote(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		if _, err := Bulk(t.Context(), newServices(t, db), BulkSize{Products: 300, Groups: 3, Artisans: 3}); err != nil {
			t.Fatal(err)
		}
		tables := []string{"products", "product_makers"}
		if models.DialectOf(db) == models.Postgres {
			tables = append(tables, "search_words")
		}
		for _, table := range tables {
			var analysed bool
			var rows float64
			var err error
			if models.DialectOf(db) == models.Postgres {
				err = db.Raw(`SELECT s.last_analyze IS NOT NULL, c.reltuples FROM pg_stat_user_tables s
					JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema() AND s.relname = ?`, table).
					Row().Scan(&analysed, &rows)
			} else {
				// sqlite_stat1's stat begins with the table's row count.
				var stat string
				err = db.Raw(`SELECT stat FROM sqlite_stat1 WHERE tbl = ? ORDER BY idx IS NULL LIMIT 1`, table).Row().Scan(&stat)
				analysed = err == nil
				_, _ = fmt.Sscan(stat, &rows)
			}
			if err != nil || !analysed || rows < 1 {
				t.Errorf("%s: analysed %v, %v rows, %v", table, analysed, rows, err)
			}
		}
	})
}

func newServices(t *testing.T, db *gorm.DB) Services {
	t.Helper()
	key := []byte("seed-test-key-seed-test-key-seed-test!")
	a, err := auth.New(db, auth.Options{Secret: key, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.New(db, catalog.Options{Currency: "PKR", PlatformFeeBPS: 1000, ProcessingBPS: 300, CursorKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InitFees(context.Background()); err != nil {
		t.Fatal(err)
	}
	g, err := groups.New(db, groups.Options{Currency: "PKR", CursorKey: key, TermsChanged: c.RefigureGroup, PII: testPII})
	if err != nil {
		t.Fatal(err)
	}
	local, err := media.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, err := media.New(db, media.Options{Storage: local, BaseURL: "http://localhost:8080/media", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return Services{Auth: a, Groups: g, Catalog: c, Media: m, Currency: "PKR"}
}

// testPII is the fixed key the tests seal personal data with.
var testPII = func() *pii.Box {
	b, err := pii.New([]byte("karigar test pii key, 32 bytes!!"))
	if err != nil {
		panic(err)
	}
	return b
}()
