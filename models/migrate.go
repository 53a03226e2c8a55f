package models

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema change. A version may have a file shared
// by both engines (NNNN_name.sql) and one per engine (NNNN_name.postgres.sql,
// NNNN_name.sqlite.sql); the shared one runs first.
type Migration struct {
	Version int
	Name    string
	shared  string
	only    map[Dialect]string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+?)(?:\.(postgres|sqlite))?\.sql$`)

// Migrations lists the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name[.postgres|.sqlite].sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Atoi(m[1])
		mig := byVersion[v]
		if mig == nil {
			mig = &Migration{Version: v, Name: m[2], only: map[Dialect]string{}}
			byVersion[v] = mig
		}
		if mig.Name != m[2] {
			return nil, fmt.Errorf("migration %04d has two names: %s and %s", v, mig.Name, m[2])
		}
		if m[3] == "" {
			mig.shared = string(body)
		} else {
			mig.only[Dialect(m[3])] = string(body)
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// SQL returns the statements of m for dialect d, with the portable type
// names replaced by the engine's own.
func (m Migration) SQL(d Dialect) string {
	return typeNames[d].Replace(m.shared + "\n" + m.only[d])
}

// nextSchemaVersion stands, in a SQLite migration that edits sqlite_master
// in place, for the schema version it must set so that every connection
// reads the edited schema. It is read just before the migration runs, so
// such a migration must edit nothing else.
const nextSchemaVersion = "{{next_schema_version}}"

// typeNames keeps one schema text for both engines. SQLite gets TIMESTAMP
// because its driver parses times only for columns declared that way.
var typeNames = map[Dialect]*strings.Replacer{
	Postgres: strings.NewReplacer("{{uuid}}", "uuid", "{{timestamp}}", "timestamptz", "{{bytes}}", "bytea", "{{json}}", "jsonb"),
	SQLite:   strings.NewReplacer("{{uuid}}", "TEXT", "{{timestamp}}", "TIMESTAMP", "{{bytes}}", "BLOB", "{{json}}", "TEXT"),
}

// Pending returns the versions of the migrations db has not had yet, without
// changing it: for commands that must read a schema, not make one.
func Pending(ctx context.Context, db *gorm.DB) ([]int, error) {
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	have := map[int]bool{}
	if db.Migrator().HasTable("schema_migrations") {
		var done []int
		if err := db.WithContext(ctx).Raw(`SELECT version FROM schema_migrations`).Scan(&done).Error; err != nil {
			return nil, err
		}
		for _, v := range done {
			have[v] = true
		}
	}
	var out []int
	for _, m := range migs {
		if !have[m.Version] {
			out = append(out, m.Version)
		}
	}
	return out, nil
}

// Migrate applies every migration not yet recorded in schema_migrations, all
// in one transaction. It is safe to run twice and, on PostgreSQL, from
// several replicas at once: an advisory lock held for the transaction makes
// the others wait and then find nothing left to do. It returns the versions
// it applied.
func Migrate(ctx context.Context, db *gorm.DB) ([]int, error) {
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	d := DialectOf(db)
	var applied []int
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if d == Postgres {
			// Keyed by schema so that databases sharing a server (tests) do not wait on each other.
			if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext('karigar.migrate.' || current_schema()))`).Error; err != nil {
				return fmt.Errorf("take migration lock: %w", err)
			}
		}
		if err := tx.Exec(typeNames[d].Replace(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY,
			name text NOT NULL,
			applied_at {{timestamp}} NOT NULL)`)).Error; err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var done []int
		if err := tx.Raw(`SELECT version FROM schema_migrations`).Scan(&done).Error; err != nil {
			return err
		}
		have := map[int]bool{}
		for _, v := range done {
			have[v] = true
		}
		for _, m := range migs {
			if have[m.Version] {
				continue
			}
			text := m.SQL(d)
			if strings.Contains(text, nextSchemaVersion) {
				var v int64
				if err := tx.Raw(`PRAGMA schema_version`).Scan(&v).Error; err != nil {
					return err
				}
				text = strings.ReplaceAll(text, nextSchemaVersion, strconv.FormatInt(v+1, 10))
			}
			if err := tx.Exec(text).Error; err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if err := tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UTC()).Error; err != nil {
				return err
			}
			applied = append(applied, m.Version)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}
