package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	sqlitedriver "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite/lib"
)

// Unreachable reports whether err says the database cannot be used just
// now (its server gone, refusing or shutting down, the connection dropped,
// the pool closed, no answer in time, or SQLite busy past its timeout)
// rather than that a statement is wrong. Such a request may succeed when
// sent again, so the API answers it 503, not 500. The drivers' error types
// are known here, where the databases are opened, and nowhere else.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var (
		netErr     net.Error
		connectErr *pgconn.ConnectError
		pgErr      *pgconn.PgError
		liteErr    *sqlitedriver.Error
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.As(err, &netErr), errors.As(err, &connectErr), pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exceptions; 57P01-03: the server is shutting
		// down or starting; 53300: no connection slot left.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	case errors.As(err, &liteErr):
		switch liteErr.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	}
	// database/sql has no exported error for a closed pool (as at shutdown).
	return strings.Contains(err.Error(), "sql: database is closed")
}
