package models

import (
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ForShare and ForUpdate make the next read of tx lock the rows it reads
// until the transaction ends, on PostgreSQL. SQLite has no row locks and
// needs none: it lets one transaction write at a time.
//
// Locks are taken in one order everywhere, so that transactions wait for
// each other instead of deadlocking: a wage benchmark, then groups in id
// order, then products.
func ForShare(tx *gorm.DB) *gorm.DB { return lock(tx, clause.LockingStrengthShare) }

// ForUpdate: see ForShare.
func ForUpdate(tx *gorm.DB) *gorm.DB { return lock(tx, clause.LockingStrengthUpdate) }

func lock(tx *gorm.DB, strength string) *gorm.DB {
	if DialectOf(tx) != Postgres {
		return tx
	}
	return tx.Clauses(clause.Locking{Strength: strength})
}
