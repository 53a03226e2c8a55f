// Package ledger is Karigar's double-entry ledger: accounts with balances
// kept in step with every transaction, transactions whose postings sum to
// zero per currency, booked once per reference and never changed, each one
// hash-chained to the one before it in its chain (one chain per group, one
// for the platform), with signed checkpoints an auditor can keep.
//
// Sign convention: a positive amount is a credit, money the platform holds
// for the account's owner (an artisan's payable, a group's margin, the
// platform's fees); the receipts accounts, where money comes in from buyers,
// go negative by what was received. All balances together are always zero.
package ledger

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/page"
)

// Account types. Group accounts: what a group's sales owe it, by purpose.
// Artisan accounts: what an artisan has earned and not yet been paid.
// Platform accounts: its fees, the payment processor's fees, money received
// (card and cash), money paid out, and what the platform bore of fees and
// refunds; only the last four may go negative.
const (
	TypeMaterials      = "materials"
	TypePackaging      = "packaging"
	TypeCollectiveFund = "collective_fund"
	TypeUndistributed  = "undistributed_margin"
	TypeShipping       = "shipping"
	TypePayable        = "payable"
	TypePlatformFees   = "platform_fees"
	TypeProcessingFees = "processing_fees"
	TypeCardReceipts   = "card_receipts"
	TypeCashReceipts   = "cash_receipts"
	TypePaidOut        = "paid_out"
	// TypeFeesAbsorbed (platform): the part of a payment processor's fee
	// that a line's margin could not bear, so that a sale never fails for it.
	TypeFeesAbsorbed = "fees_absorbed"
	// TypeRefundsAdvanced (platform): the part of a refund that the group or
	// its artisans no longer had, because it had been paid out or shared
	// already. The platform bears it; an artisan never owes a refund back.
	TypeRefundsAdvanced = "refunds_advanced"
)

// mayGoNegative are the account types whose balance may fall below zero.
var mayGoNegative = map[string]bool{TypeCardReceipts: true, TypeCashReceipts: true, TypeFeesAbsorbed: true, TypeRefundsAdvanced: true,
	TypeCashOverShort: true}

// Transaction kinds.
const (
	KindSale         = "sale"
	KindCashSale     = "cash_sale"
	KindRefund       = "refund"
	KindDistribution = "distribution"
	KindPayout       = "payout"
	KindTransfer     = "transfer" // anything else; benchmarks and tests
)

// PlatformChain is the chain of transactions that belong to no group.
const PlatformChain = "platform"

// Owner is whose an account is.
type Owner struct {
	Kind    string    // models.OwnerPlatform, OwnerGroup or OwnerArtisan
	ID      uuid.UUID // uuid.Nil for the platform
	GroupID uuid.UUID // the group of a group's or an artisan's account
}

// Platform is the platform's owner.
var Platform = Owner{Kind: models.OwnerPlatform}

// Group is a group's owner.
func Group(id uuid.UUID) Owner { return Owner{Kind: models.OwnerGroup, ID: id, GroupID: id} }

// Artisan is an artisan's owner.
func Artisan(id, groupID uuid.UUID) Owner {
	return Owner{Kind: models.OwnerArtisan, ID: id, GroupID: groupID}
}

// Posting moves Amount minor units of Currency into an owner's account of a type.
type Posting struct {
	Owner    Owner
	Type     string
	Amount   int64
	Currency string
}

// Entry is a transaction to book. Reference identifies the event it books
// (e.g. "order:{id}:line:1:sale"): booking the same reference twice books it
// once. GroupID chooses the chain: the group's, or the platform's if nil.
// Memo is part of the chained record (JSON).
type Entry struct {
	// ID is the transaction's id, chosen by a caller that names it before
	// it is booked (a payout's answer); uuid.Nil: a fresh one.
	ID        uuid.UUID
	Reference string
	Kind      string
	GroupID   *uuid.UUID
	Memo      string
	Postings  []Posting
}

// Errors of Post. Those a request or the state of the books can cause are
// in the services error family, so that they reach a client with their
// code even when the caller has nothing better to say.
var (
	// ErrUnbalanced: the postings do not sum to zero per currency, or there
	// are fewer than two, or one is zero. Entries are built by services from
	// checked input, so this is a bug of theirs and stays internal.
	ErrUnbalanced = errors.New("ledger: postings must be two or more non-zero amounts summing to zero per currency")
	// ErrReferenceReused (conflict): the reference was booked before with
	// other postings or on another chain. A caller that knows what the
	// reference stands for (a payout's Idempotency-Key) names it better.
	ErrReferenceReused error = services.Conflict(services.CodeConflict, "this event was booked in the ledger before with other amounts")
)

// errNoSale: a refund of an order whose sale was never booked.
var errNoSale = services.Conflict(services.CodeInvalidState, "the order has no sale booked in the ledger: there is nothing to refund")

// InsufficientFundsError says a posting would take an account below zero.
// It unwraps to an insufficient_funds *services.Error; callers that know
// what the booking was find the account with errors.As and say it better.
type InsufficientFundsError struct {
	AccountID uuid.UUID
	Owner     Owner
	Type      string
	Balance   int64
	Currency  string
}

func (e *InsufficientFundsError) Error() string { return "ledger: insufficient funds" }

func (e *InsufficientFundsError) Unwrap() error {
	return services.Conflict(services.CodeInsufficientFunds, "the %s balance is %s: too little for this booking",
		e.Type, models.NewMoney(e.Balance, e.Currency))
}

// Options configure a Service.
type Options struct {
	Currency   string
	SigningKey ed25519.PrivateKey // signs checkpoints
	CursorKey  []byte             // signs list cursors
	Now        func() time.Time
	Metrics    services.Metrics // nil: none
	// OnPayout, when set, runs inside the transaction that records a new
	// payout, once its row is written and before the group's chain is
	// locked (the group's payouts wait for each other there): what must
	// exist exactly when the payout does (its receipt and SMS) is written
	// there, from the artisan and group as read for the payout. It returns
	// the receipt's code, for the payout's answer ("" for none). An error
	// rolls the payout back.
	OnPayout func(tx *gorm.DB, p models.Payout, artisan models.Artisan, group models.Group) (receipt string, err error)
}

// Service is the ledger.
type Service struct {
	db     *gorm.DB
	opt    Options
	cursor page.Codec
	engine engine
	// hashVersion is the encoding bookings are hashed with: always
	// currentHashVersion, but tests write older chains with older ones.
	hashVersion int
	// noStoredTrees: read every leaf of a chain's tree instead of the
	// stored subtree hashes, and store none; the benchmark measures what
	// storing them saves.
	noStoredTrees bool
}

// New returns a ledger on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) {
		return nil, errors.New("ledger: a currency is required")
	}
	if len(opt.SigningKey) != ed25519.PrivateKeySize || len(opt.CursorKey) == 0 {
		return nil, errors.New("ledger: an Ed25519 signing key and a cursor key are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Metrics == nil {
		opt.Metrics = services.NoMetrics{}
	}
	return &Service{db: db, opt: opt, cursor: page.NewCodec(opt.CursorKey), engine: engines[models.DialectOf(db)],
		hashVersion: currentHashVersion}, nil
}

// Currency is the deployment's currency.
func (s *Service) Currency() string { return s.opt.Currency }

// PublicKey is the key checkpoints are signed with.
func (s *Service) PublicKey() ed25519.PublicKey { return s.opt.SigningKey.Public().(ed25519.PublicKey) }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Post books e in a transaction of its own, retrying on a deadlock or
// serialization failure. It returns the transaction, and whether e's
// reference had been booked already (then nothing new was booked).
func (s *Service) Post(ctx context.Context, e Entry) (models.LedgerTransaction, bool, error) {
	var out models.LedgerTransaction
	var dup bool
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		out, dup, err = s.PostTx(tx, e)
		return err
	})
	if err == nil && !dup {
		s.opt.Metrics.LedgerBooked(e.Kind, 1)
	}
	return out, dup, err
}
