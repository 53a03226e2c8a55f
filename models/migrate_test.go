package models_test

import (
	"context"
	"sync"
	"testing"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

func TestMigrateIsSafeToRunTwice(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := modelstest.Open(t, engine) // migrated once already
			applied, err := models.Migrate(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != 0 {
				t.Fatalf("second run applied %v", applied)
			}
			migs, _ := models.Migrations()
			var n int64
			if err := db.Raw(`SELECT count(*) FROM schema_migrations`).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != int64(len(migs)) {
				t.Fatalf("schema_migrations has %d rows, want %d", n, len(migs))
			}
		})
	}
}

// Replicas that start together must not trip over each other's migrations.
func TestMigrateConcurrently(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			u := modelstest.URL(t, engine)
			const replicas = 4
			var wg sync.WaitGroup
			results := make([][]int, replicas)
			errs := make([]error, replicas)
			for i := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := models.Open(context.Background(), u, models.OpenOptions{MaxOpenConns: 2})
					if err != nil {
						errs[i] = err
						return
					}
					defer models.Close(db)
					results[i], errs[i] = models.Migrate(context.Background(), db)
				}()
			}
			wg.Wait()
			total := 0
			for i := range replicas {
				if errs[i] != nil {
					t.Fatalf("replica %d: %v", i, errs[i])
				}
				total += len(results[i])
			}
			migs, _ := models.Migrations()
			if total != len(migs) {
				t.Fatalf("migrations applied %d times in all, want %d (once each): %v", total, len(migs), results)
			}
		})
	}
}

func TestMigrationsAreNumberedWithoutGaps(t *testing.T) {
	migs, err := models.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range migs {
		if m.Version != i+1 {
			t.Fatalf("migration %d has version %d", i, m.Version)
		}
		for _, d := range []models.Dialect{models.Postgres, models.SQLite} {
			if sql := m.SQL(d); len(sql) < 10 {
				t.Fatalf("migration %d is empty for %s", m.Version, d)
			}
		}
	}
}
