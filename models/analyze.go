package models

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"gorm.io/gorm"
)

// Analyze refreshes the planner's statistics of tables, as a bulk write
// must before the rows are read: until then PostgreSQL plans a table of
// 100,000 rows as if it were empty (a catalogue page sorted 44,000 rows in
// memory, seconds, instead of reading twenty from an index), and
// autoanalyze, where it is on, catches up only after a while. SQLite's
// query planner reads what ANALYZE leaves in sqlite_stat1; there a bounded
// sample keeps it cheap.
func Analyze(ctx context.Context, db *gorm.DB, tables ...string) error {
	for _, t := range tables {
		if !tableName.MatchString(t) {
			return fmt.Errorf("models: analyze %q: not a table name", t)
		}
	}
	if len(tables) == 0 {
		return nil
	}
	db = db.WithContext(ctx)
	if DialectOf(db) == Postgres {
		return db.Exec("ANALYZE " + strings.Join(tables, ", ")).Error
	}
	// analysis_limit is the connection's: one connection for both.
	return db.Connection(func(conn *gorm.DB) error {
		if err := conn.Exec("PRAGMA analysis_limit = 1000").Error; err != nil {
			return err
		}
		for _, t := range tables {
			if err := conn.Exec("ANALYZE " + t).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
