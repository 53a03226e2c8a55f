package api

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/services/audit"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/markets"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/payments"
)

// Services are the domain services the server calls.
type Services struct {
	Auth        *auth.Service
	Idempotency *idempotency.Store
	Groups      *groups.Service
	Catalog     *catalog.Service
	Ledger      *ledger.Service
	Orders      *orders.Service
	Markets     *markets.Service
	Audit       *audit.Service
	// Metrics are the business figures the services count, served on
	// /metrics; nil serves none.
	Metrics *BusinessMetrics
}

// Wiring is what the services take from configuration. The binary and the
// tests build their services from it with Build, so both run the services
// wired the same way.
type Wiring struct {
	Currency  string             // the deployment's one currency
	Secret    []byte             // signs access tokens; the cursor and idempotency keys are derived from it
	LedgerKey ed25519.PrivateKey // signs the ledger's checkpoints
	Logger    *slog.Logger

	// The first fees in force, in basis points of a price, as configured:
	// the catalogue records them when none are (InitFees); after that fees
	// are admin data in the database, and these are not read again.
	PlatformFeeBPS   int
	ProcessingFeeBPS int

	OrderTTL time.Duration     // how long a card order waits for payment; zero: the orders service's default
	Payments payments.Provider // nil: no card payments, cash on delivery only

	// Tests change these; zero values are the services' defaults.
	BcryptCost int
	Limits     auth.Limits
	Clocks     Clocks
}

// Clocks are the services' clocks, each nil for the wall clock. They are
// separate so that a test can move one service's time (orders expiring,
// reports of a later day) while access tokens keep real time.
type Clocks struct {
	Auth, Audit func() time.Time
	// Orders is the orders' clock and the order cycles' (a cycle is open
	// for checkout by the same clock that stamps its orders).
	Orders func() time.Time
}

// Build wires the services on db: the catalogue refigures a group's products
// when its terms change, orders and the audit reports book and read through
// the ledger, a checkout inside an order cycle takes its places through the
// cycles (markets.NewCheckout), and the cycles hand orders over through
// orders. It returns the services' own errors for a configuration they
// refuse (a short secret, an unknown currency, fees over 100%).
func Build(db *gorm.DB, w Wiring) (Services, error) {
	if w.Logger == nil {
		return Services{}, errors.New("api: Wiring.Logger is required")
	}
	s := Services{Metrics: NewBusinessMetrics()}
	var err error
	if s.Auth, err = auth.New(db, auth.Options{Secret: w.Secret, BcryptCost: w.BcryptCost, Limits: w.Limits, Now: w.Clocks.Auth}); err != nil {
		return Services{}, err
	}
	if s.Idempotency, err = idempotency.New(db, idempotency.Options{Secret: DeriveKey(w.Secret, "idempotency")}); err != nil {
		return Services{}, err
	}
	cursorKey := DeriveKey(w.Secret, "cursor")
	if s.Catalog, err = catalog.New(db, catalog.Options{Currency: w.Currency, PlatformFeeBPS: w.PlatformFeeBPS,
		ProcessingBPS: w.ProcessingFeeBPS, CursorKey: cursorKey}); err != nil {
		return Services{}, err
	}
	if s.Groups, err = groups.New(db, groups.Options{Currency: w.Currency, CursorKey: cursorKey,
		TermsChanged: s.Catalog.RefigureGroup}); err != nil {
		return Services{}, err
	}
	if s.Ledger, err = ledger.New(db, ledger.Options{Currency: w.Currency, SigningKey: w.LedgerKey,
		CursorKey: DeriveKey(w.Secret, "ledger-cursor"), Metrics: s.Metrics}); err != nil {
		return Services{}, err
	}
	if s.Orders, err = orders.New(db, orders.Options{Currency: w.Currency, TTL: w.OrderTTL,
		Payments: w.Payments, Ledger: s.Ledger, CursorKey: DeriveKey(w.Secret, "orders-cursor"), Logger: w.Logger,
		Now: w.Clocks.Orders, Metrics: s.Metrics, Market: markets.NewCheckout(db)}); err != nil {
		return Services{}, err
	}
	if s.Markets, err = markets.New(db, markets.Options{Currency: w.Currency, CursorKey: DeriveKey(w.Secret, "markets-cursor"),
		Orders: s.Orders, Now: w.Clocks.Orders, Logger: w.Logger}); err != nil {
		return Services{}, err
	}
	if s.Audit, err = audit.New(db, audit.Options{Currency: w.Currency, Ledger: s.Ledger, Now: w.Clocks.Audit}); err != nil {
		return Services{}, err
	}
	return s, nil
}

// DeriveKey gives each use of the one configured secret a key of its own, so
// that nothing made for one use is accepted by another. Cursors already
// handed out and idempotency hashes already stored depend on its output
// staying as it is.
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("karigar/" + purpose))
	return m.Sum(nil)
}
