package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Transact runs fn in a database transaction on db and, when PostgreSQL
// aborts it for a deadlock (40P01) or a serialization failure (40001),
// runs it again, up to five attempts in all: both are transient, and the
// whole transaction is safe to redo because nothing of it was committed.
// So fn must set whatever it hands out of the transaction afresh on every
// call. It returns fn's error, or the last transient one.
func Transact(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	db = db.WithContext(ctx)
	var err error
	for attempt := range 5 {
		if err = db.Transaction(fn); !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func transient(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// ReadSnapshot runs fn in a read-only transaction on db in which every
// statement sees the same snapshot, for reads that must agree with each
// other (a ledger's chains with its balances) while bookings go on.
func ReadSnapshot(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.WithContext(ctx).Transaction(fn, snapshotOptions(DialectOf(db)))
}

// snapshotOptions: PostgreSQL's default, READ COMMITTED, takes a new
// snapshot for each statement, REPEATABLE READ one for the transaction; a
// SQLite transaction reads one snapshot of its WAL whatever it is asked.
// Read-only snapshots are never aborted for serialization, so ReadSnapshot
// needs no retry.
func snapshotOptions(d Dialect) *sql.TxOptions {
	opts := &sql.TxOptions{ReadOnly: true}
	if d == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return opts
}
