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
// order, then an order's row, then products (in id order), then order
// cycle offers (in cycle, then product id order), then order cycle slots
// (in id order), then the ledger's chain heads and accounts. A checkout
// inside an order cycle takes its offers' units and its slot's place after
// the stock, just before it commits, and a cancellation or the expiry sweep
// gives them back after the stock; an ordinary checkout takes products
// only. So no transaction holds an offer or a slot while it waits for a
// product, and the rows every checkout of a market shares are held for the
// least time.
func ForShare(tx *gorm.DB) *gorm.DB { return lock(tx, clause.LockingStrengthShare) }

// ForUpdate: see ForShare.
func ForUpdate(tx *gorm.DB) *gorm.DB { return lock(tx, clause.LockingStrengthUpdate) }

// ForNoKeyUpdate locks rows against other writers and FOR SHARE readers,
// but not against foreign-key checks (FOR KEY SHARE). Refiguring a group's
// products holds its row this way: a checkout that has taken a product's
// stock and then inserts an order part naming the group checks that key,
// and under FOR UPDATE the two would wait for each other (a deadlock).
func ForNoKeyUpdate(tx *gorm.DB) *gorm.DB { return lock(tx, "NO KEY UPDATE") }

func lock(tx *gorm.DB, strength string) *gorm.DB {
	if DialectOf(tx) != Postgres {
		return tx
	}
	return tx.Clauses(clause.Locking{Strength: strength})
}

// ForUpdateSkipLocked locks the rows read as ForUpdate does, passing over
// rows another transaction holds, so that workers on several replicas take
// different rows (PostgreSQL; SQLite lets one transaction write at a time).
func ForUpdateSkipLocked(tx *gorm.DB) *gorm.DB {
	if DialectOf(tx) != Postgres {
		return tx
	}
	return tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked})
}
