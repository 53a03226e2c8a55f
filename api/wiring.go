package api

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/audit"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/fairs"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/markets"
	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/payments"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/receipts"
	"github.com/karigar/karigar/services/sms"
	"github.com/karigar/karigar/services/statements"
	"github.com/karigar/karigar/services/stats"
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
	Fairs       *fairs.Service
	Receipts    *receipts.Service
	// SMSInbound answers the SMS that reach POST /sms/inbound: the
	// artisans' answers to their receipts (receipts.Service.Reply) unless
	// Wiring.SMSHandler says otherwise.
	SMSInbound sms.Handler
	SMS        *sms.Service
	// SMSSender hands the outbox to Kannel; nil when no gateway URL is
	// configured (messages then wait, queued). Whoever runs the server runs it.
	SMSSender *sms.Sender
	// The inclusion statistics and income statements (section 15).
	Stats      *stats.Service
	Statements *statements.Service
	// Media keeps product photos; nil when Wiring.Storage is (the photo
	// routes then answer 503).
	Media *media.Service
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
	// PII seals personal data at rest (artisans' phone numbers and CNICs,
	// buyers' shipping addresses, stored answers that hold them, the SMS
	// outbox's numbers). Required; the tests use a fixed key.
	PII *pii.Box

	// The first fees in force, in basis points of a price, as configured:
	// the catalogue records them when none are (InitFees); after that fees
	// are admin data in the database, and these are not read again.
	PlatformFeeBPS   int
	ProcessingFeeBPS int

	OrderTTL time.Duration     // how long a card order waits for payment; zero: the orders service's default
	Payments payments.Provider // nil: no card payments, cash on delivery only

	// SMS is the gateway the outbox is handed to (Kannel's sendsms
	// interface). An empty SMS.URL starts no sender: messages wait, queued.
	SMS sms.Gateway
	// SMSInboundToken is the shared secret of Kannel's calls to
	// /sms/inbound; empty refuses them all.
	SMSInboundToken string
	// SMSHandler answers inbound messages; nil: the artisans' answers to
	// their receipts (receipts.Service.Reply).
	SMSHandler sms.Handler
	// StatsMinCell is the fewest workers a published statistics cell may
	// have (KARIGAR_STATS_MIN_CELL); zero: the stats service's default.
	StatsMinCell int
	// Storage keeps product photos (KARIGAR_STORAGE_URL); nil: no photos.
	Storage media.Storage
	// MediaURL is where clients fetch stored photos: the storage's public
	// URL, or the binary's own /media route. Default
	// http://localhost:8080/media, matching Config.PublicURL's default.
	MediaURL string

	// Tests change these; zero values are the services' defaults.
	BcryptCost int
	Limits     auth.Limits
	Lookups    receipts.LookupLimit // checks of receipt codes per client address
	Clocks     Clocks
}

// Clocks are the services' clocks, each nil for the wall clock. They are
// separate so that a test can move one service's time (orders expiring,
// reports of a later day) while access tokens keep real time.
type Clocks struct {
	Auth, Audit, Receipts, Fairs func() time.Time
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
	if w.PII == nil {
		return Services{}, errors.New("api: Wiring.PII is required")
	}
	s := Services{Metrics: NewBusinessMetrics()}
	var err error
	if s.Auth, err = auth.New(db, auth.Options{Secret: w.Secret, BcryptCost: w.BcryptCost, Limits: w.Limits, Now: w.Clocks.Auth}); err != nil {
		return Services{}, err
	}
	if s.Idempotency, err = idempotency.New(db, idempotency.Options{Secret: DeriveKey(w.Secret, "idempotency"), PII: w.PII}); err != nil {
		return Services{}, err
	}
	cursorKey := DeriveKey(w.Secret, "cursor")
	if s.Catalog, err = catalog.New(db, catalog.Options{Currency: w.Currency, PlatformFeeBPS: w.PlatformFeeBPS,
		ProcessingBPS: w.ProcessingFeeBPS, CursorKey: cursorKey}); err != nil {
		return Services{}, err
	}
	if s.Groups, err = groups.New(db, groups.Options{Currency: w.Currency, CursorKey: cursorKey,
		TermsChanged: s.Catalog.RefigureGroup, PII: w.PII}); err != nil {
		return Services{}, err
	}
	// A new payout's receipt and SMS are written in the payout's own
	// transaction (receipts.OnPayout); the receipts read the ledger's proofs.
	if s.Ledger, err = ledger.New(db, ledger.Options{Currency: w.Currency, SigningKey: w.LedgerKey,
		CursorKey: DeriveKey(w.Secret, "ledger-cursor"), Metrics: s.Metrics,
		OnPayout: func(tx *gorm.DB, p models.Payout, a models.Artisan, g models.Group) (string, error) {
			return s.Receipts.OnPayout(tx, p, a, g)
		}}); err != nil {
		return Services{}, err
	}
	if s.Receipts, err = receipts.New(db, receipts.Options{Box: w.PII, Ledger: s.Ledger,
		CursorKey: DeriveKey(w.Secret, "receipts-cursor"), Lookups: w.Lookups, Throttle: s.Auth.Throttle, Now: w.Clocks.Receipts, Logger: w.Logger}); err != nil {
		return Services{}, err
	}
	if s.SMSInbound = w.SMSHandler; s.SMSInbound == nil {
		s.SMSInbound = s.Receipts.Reply
	}
	if s.Orders, err = orders.New(db, orders.Options{Currency: w.Currency, TTL: w.OrderTTL,
		Payments: w.Payments, Ledger: s.Ledger, CursorKey: DeriveKey(w.Secret, "orders-cursor"), Logger: w.Logger,
		Now: w.Clocks.Orders, Metrics: s.Metrics, PII: w.PII, Market: markets.NewCheckout(db)}); err != nil {
		return Services{}, err
	}
	if s.Markets, err = markets.New(db, markets.Options{Currency: w.Currency, CursorKey: DeriveKey(w.Secret, "markets-cursor"),
		Orders: s.Orders, Now: w.Clocks.Orders, Logger: w.Logger}); err != nil {
		return Services{}, err
	}
	if s.Audit, err = audit.New(db, audit.Options{Currency: w.Currency, Ledger: s.Ledger, Now: w.Clocks.Audit}); err != nil {
		return Services{}, err
	}
	// One key signs the delivery-report URLs the sender hands Kannel and
	// checks them when Kannel calls back, on whichever replica.
	dlrKey := DeriveKey(w.Secret, "sms-dlr")
	if s.SMS, err = sms.New(db, sms.Options{Box: w.PII, Handler: s.SMSInbound, InboundToken: w.SMSInboundToken,
		DLRKey: dlrKey, CursorKey: cursorKey, Logger: w.Logger, Metrics: s.Metrics}); err != nil {
		return Services{}, err
	}
	if w.SMS.URL != "" {
		if s.SMSSender, err = sms.NewSender(db, w.SMS, sms.SenderOptions{Box: w.PII, DLRKey: dlrKey, Logger: w.Logger,
			Metrics: s.Metrics}); err != nil {
			return Services{}, err
		}
	}
	if s.Stats, err = stats.New(db, stats.Options{Currency: w.Currency, Audit: s.Audit, MinCell: w.StatsMinCell,
		Now: w.Clocks.Audit}); err != nil {
		return Services{}, err
	}
	if s.Statements, err = statements.New(db, statements.Options{Currency: w.Currency, Audit: s.Audit, Ledger: s.Ledger,
		Now: w.Clocks.Audit}); err != nil {
		return Services{}, err
	}
	if s.Fairs, err = fairs.New(db, fairs.Options{Currency: w.Currency, Ledger: s.Ledger,
		CursorKey: DeriveKey(w.Secret, "fairs-cursor"), Now: w.Clocks.Fairs, Metrics: s.Metrics}); err != nil {
		return Services{}, err
	}
	if w.Storage != nil {
		if w.MediaURL == "" {
			w.MediaURL = "http://localhost:8080" + MediaPath
		}
		if s.Media, err = media.New(db, media.Options{Storage: w.Storage, BaseURL: w.MediaURL, Logger: w.Logger}); err != nil {
			return Services{}, err
		}
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
