package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlitedriver "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	sqlite3 "modernc.org/sqlite/lib"
)

// DefaultDatabaseURL is used when KARIGAR_DATABASE_URL is unset: an embedded
// SQLite file in the working directory, so a fresh checkout runs as is.
const DefaultDatabaseURL = "sqlite://karigar.db"

// Dialect names the database engine behind a *gorm.DB.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DialectOf returns the engine of db.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

// OpenOptions tune Open. The zero value is fine for the server.
type OpenOptions struct {
	MaxOpenConns int          // PostgreSQL pool size; default 20
	Logger       *slog.Logger // slow and failed queries; nil: silent
}

// Open connects to the database named by rawURL: postgres://… (or
// postgresql://…) through gorm's PostgreSQL driver, sqlite://PATH or an empty
// string through the pure-Go SQLite driver. SQLite runs with WAL, a busy
// timeout and foreign keys on, so the CLI and the server can share the file.
func Open(ctx context.Context, rawURL string, opt OpenOptions) (*gorm.DB, error) {
	if rawURL == "" {
		rawURL = DefaultDatabaseURL
	}
	cfg := &gorm.Config{
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		Logger:                 newGormLogger(opt.Logger),
		TranslateError:         true,
		SkipDefaultTransaction: true,
	}
	var (
		db  *gorm.DB
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		db, err = gorm.Open(postgres.Open(rawURL), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, err
		}
		n := opt.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	case strings.HasPrefix(rawURL, "sqlite://"):
		dsn, err := sqliteDSN(strings.TrimPrefix(rawURL, "sqlite://"))
		if err != nil {
			return nil, err
		}
		db, err = openSQLite(ctx, dsn, cfg)
		if err != nil {
			if folderErr := sqliteFolderProblem(dsn); folderErr != nil {
				return nil, folderErr
			}
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	default:
		return nil, errors.New("database URL must start with postgres://, postgresql:// or sqlite://")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// Close releases db's connections.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// openSQLite retries while the file is busy. Two processes opening a new
// file at once (the CLI and the server) race to switch it to WAL, and SQLite
// answers the loser SQLITE_BUSY at once, without its busy handler. The WAL
// mode persists in the file, so the retry finds it done.
func openSQLite(ctx context.Context, dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		db, err := gorm.Open(sqlite.Open(dsn), cfg)
		var e *sqlitedriver.Error
		if err == nil || !errors.As(err, &e) || e.Code() != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return db, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sqliteFolderProblem explains a SQLite file that cannot be opened because
// its folder cannot be written (SQLite itself says "out of memory (14)"):
// the database and its write-ahead log are files made in that folder. nil
// when the folder is writable, and the cause is something else.
func sqliteFolderProblem(dsn string) error {
	path, _, _ := strings.Cut(dsn, "?")
	dir := filepath.Dir(path)
	probe, err := os.CreateTemp(dir, ".karigar-write-check-*")
	if err != nil {
		return fmt.Errorf("open sqlite: the folder %s of the database %s cannot be written: %w", dir, path, err)
	}
	name := probe.Name()
	_ = probe.Close()
	_ = os.Remove(name)
	return nil
}

func sqliteDSN(path string) (string, error) {
	path, query, _ := strings.Cut(path, "?")
	if path == "" {
		return "", errors.New("sqlite:// URL needs a file path, e.g. sqlite://karigar.db")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", fmt.Errorf("create database directory: %w", err)
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("sqlite URL query: %w", err)
	}
	// Immediate transactions take the write lock up front, so two writers
	// wait on busy_timeout instead of failing when a read lock upgrades.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode(), nil
}

type gormLogger struct {
	log *slog.Logger
}

func newGormLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return gormLogger{log: l}
}

func (g gormLogger) LogMode(logger.LogLevel) logger.Interface { return g }
func (g gormLogger) Info(context.Context, string, ...any)     {}
func (g gormLogger) Warn(context.Context, string, ...any)     {}
func (g gormLogger) Error(ctx context.Context, msg string, args ...any) {
	g.log.ErrorContext(ctx, "database", "message", fmt.Sprintf(msg, args...))
}

// Trace logs failed and slow statements. The SQL text is logged without its
// bound values, which may hold personal data.
func (g gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, gorm.ErrDuplicatedKey) &&
		!errors.Is(err, context.Canceled):
		// Not-found and duplicate keys are answers the services turn into 404 and 409.
		g.log.ErrorContext(ctx, "query failed", "error", err.Error(), "elapsed_ms", elapsed.Milliseconds())
	case elapsed > 500*time.Millisecond:
		g.log.WarnContext(ctx, "slow query", "elapsed_ms", elapsed.Milliseconds())
	}
}
