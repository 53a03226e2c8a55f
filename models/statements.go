package models

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// StatementLog records the statements a *gorm.DB sends to the database, with
// the transactions' begins and commits, as the database sees them. It is how
// the tests hold the checkout and the payout to their round trips, and how
// a profile names what a request costs; the server never uses it.
type StatementLog struct {
	mu      sync.Mutex
	entries []Statement
}

// Statement is one statement sent, with its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// Entries are the statements sent so far, "BEGIN", "COMMIT" and "ROLLBACK"
// included, in order.
func (l *StatementLog) Entries() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.entries))
	for i, e := range l.entries {
		out[i] = e.SQL
	}
	return out
}

// Statements are Entries with the arguments each was sent with.
func (l *StatementLog) Statements() []Statement {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Statement(nil), l.entries...)
}

// Commits counts the commits among Entries.
func (l *StatementLog) Commits() int {
	n := 0
	for _, e := range l.Entries() {
		if e == "COMMIT" {
			n++
		}
	}
	return n
}

// Reset forgets what was recorded.
func (l *StatementLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}

func (l *StatementLog) add(s string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, Statement{s, append([]any(nil), args...)})
}

// LogStatements returns a session of db whose statements are recorded in
// the returned log. Statements outside a transaction each count as their
// own commit on the server, which Commits does not see: compare Entries.
func LogStatements(db *gorm.DB) (*gorm.DB, *StatementLog) {
	l := &StatementLog{}
	s := db.Session(&gorm.Session{})
	s.Statement.ConnPool = &loggedPool{pool: s.Statement.ConnPool, log: l}
	return s, l
}

// loggedPool is a gorm.ConnPool that records what passes through it.
type loggedPool struct {
	pool gorm.ConnPool
	log  *StatementLog
}

func (p *loggedPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.pool.PrepareContext(ctx, query)
}

func (p *loggedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	p.log.add(query, args...)
	return p.pool.ExecContext(ctx, query, args...)
}

func (p *loggedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	p.log.add(query, args...)
	return p.pool.QueryContext(ctx, query, args...)
}

func (p *loggedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	p.log.add(query, args...)
	return p.pool.QueryRowContext(ctx, query, args...)
}

func (p *loggedPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	b, ok := p.pool.(gorm.TxBeginner)
	if !ok {
		return nil, gorm.ErrInvalidTransaction
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	p.log.add("BEGIN")
	return &loggedTx{loggedPool: loggedPool{pool: tx, log: p.log}, tx: tx}, nil
}

// GetDBConn lets gorm's db.DB() reach the pool underneath.
func (p *loggedPool) GetDBConn() (*sql.DB, error) {
	if g, ok := p.pool.(gorm.GetDBConnector); ok {
		return g.GetDBConn()
	}
	if d, ok := p.pool.(*sql.DB); ok {
		return d, nil
	}
	return nil, gorm.ErrInvalidDB
}

type loggedTx struct {
	loggedPool
	tx *sql.Tx
}

func (t *loggedTx) Commit() error {
	t.log.add("COMMIT")
	return t.tx.Commit()
}

func (t *loggedTx) Rollback() error {
	t.log.add("ROLLBACK")
	return t.tx.Rollback()
}
