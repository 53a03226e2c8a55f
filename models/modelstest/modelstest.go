// Package modelstest gives tests real, freshly migrated databases: a new
// SQLite file always, and a new PostgreSQL schema as well when
// KARIGAR_TEST_DATABASE_URL is set.
package modelstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// EnvPostgres names the PostgreSQL server tests also run against.
const EnvPostgres = "KARIGAR_TEST_DATABASE_URL"

// Each runs fn as a subtest once per available engine ("sqlite", and
// "postgres" when KARIGAR_TEST_DATABASE_URL is set), each time on a new,
// migrated database that is dropped afterwards.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	for _, name := range Engines() {
		t.Run(name, func(t *testing.T) {
			fn(t, Open(t, name))
		})
	}
}

// EnvEngines, when set (e.g. "postgres"), limits the engines tests run on:
// CI runs the race detector on PostgreSQL only, after a full SQLite run.
const EnvEngines = "KARIGAR_TEST_ENGINES"

// Engines lists the engines tests run on here.
func Engines() []string {
	all := []string{"sqlite"}
	if os.Getenv(EnvPostgres) != "" {
		all = append(all, "postgres")
	}
	only := os.Getenv(EnvEngines)
	if only == "" {
		return all
	}
	var out []string
	for _, e := range all {
		if strings.Contains(","+only+",", ","+e+",") {
			out = append(out, e)
		}
	}
	return out
}

// Open returns a new migrated database on engine ("sqlite" or "postgres").
func Open(t testing.TB, engine string) *gorm.DB {
	t.Helper()
	u := URL(t, engine)
	db, err := models.Open(context.Background(), u, models.OpenOptions{MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	if _, err := models.Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate %s: %v", engine, err)
	}
	return db
}

// URL returns the URL of a new, empty database on engine, removed when the
// test ends. For PostgreSQL it is a new schema on the test server, selected
// through search_path (public stays on the path for extensions).
func URL(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case "sqlite":
		return "sqlite://" + filepath.Join(t.TempDir(), "karigar.db")
	case "postgres":
		base := os.Getenv(EnvPostgres)
		if base == "" {
			t.Skip(EnvPostgres + " is not set")
		}
		schema := "t_" + randomHex(8)
		admin, err := models.Open(context.Background(), base, models.OpenOptions{MaxOpenConns: 1})
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
			_ = models.Close(admin)
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse %s: %v", EnvPostgres, err)
		}
		q := u.Query()
		q.Set("search_path", schema+",public")
		u.RawQuery = q.Encode()
		return u.String()
	}
	t.Fatalf("unknown engine %q", engine)
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
