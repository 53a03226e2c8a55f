package models

import (
	"time"

	"github.com/google/uuid"
)

// Ledger account owners.
const (
	OwnerPlatform = "platform"
	OwnerGroup    = "group"
	OwnerArtisan  = "artisan"
)

// LedgerAccount is one account of the double-entry ledger. Balance is the
// sum of its postings, kept with every transaction; accounts that are not
// MayGoNegative (every group and artisan account) never go below zero.
type LedgerAccount struct {
	ID            uuid.UUID `gorm:"primaryKey"`
	OwnerKind     string
	OwnerID       uuid.UUID  // uuid.Nil for the platform
	GroupID       *uuid.UUID // the group of a group's or an artisan's account
	Type          string
	Currency      string
	MayGoNegative bool
	Balance       int64
	CreatedAt     time.Time
	// IdentityHash is SHA-256 of the account's id and identity as it was
	// opened (nil if opened before migration 0012): verify compares it with
	// the row to name an account that was edited.
	IdentityHash []byte
}

// LedgerChain is the head of one hash chain of transactions.
type LedgerChain struct {
	ChainKey          string `gorm:"primaryKey"`
	Seq               int64
	HeadHash          []byte
	HeadTransactionID *uuid.UUID
}

// LedgerTransaction is a committed, balanced set of postings. Rows are
// never updated or deleted.
type LedgerTransaction struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	ChainKey   string
	ChainSeq   int64
	Reference  string
	Kind       string
	GroupID    *uuid.UUID
	Memo       string
	OccurredAt time.Time
	PrevID     *uuid.UUID
	PrevHash   []byte
	Hash       []byte
	// HashVersion is the encoding Hash covers (services/ledger/chain.go):
	// 1 without the accounts' identities, 2 with them.
	HashVersion int
}

// LedgerPosting moves Amount (signed minor units) into an account; the
// postings of a transaction sum to zero per currency.
type LedgerPosting struct {
	TransactionID uuid.UUID `gorm:"primaryKey"`
	Position      int       `gorm:"primaryKey"`
	AccountID     uuid.UUID
	Amount        int64
	Currency      string
}

// LedgerCheckpoint is a signed checkpoint's chain heads (and, from
// version 2, each chain's tree root beside its head, and the root of the
// tree over the chains: RootHash, nil for a version 1 checkpoint).
type LedgerCheckpoint struct {
	Sequence  int64
	HeadHash  []byte `gorm:"primaryKey"`
	Heads     string
	CreatedAt time.Time
	RootHash  []byte
}

// LedgerTreeNode is the hash of a complete subtree of a chain's Merkle
// tree: over the leaves [Idx << Level, (Idx+1) << Level). Derived from the
// transactions, stored when first needed, never changed.
type LedgerTreeNode struct {
	ChainKey string `gorm:"primaryKey"`
	Level    int    `gorm:"primaryKey"`
	Idx      int64  `gorm:"primaryKey"`
	Hash     []byte
}

// Payout is money handed to an artisan, and her acknowledgement of it.
type Payout struct {
	ID                  uuid.UUID `gorm:"primaryKey"`
	GroupID             uuid.UUID
	ArtisanID           uuid.UUID
	Amount              int64
	Currency            string
	Method              string
	Reference           string
	TransactionID       uuid.UUID
	CreatedBy           uuid.UUID
	CreatedAt           time.Time
	AcknowledgedAt      *time.Time
	AcknowledgedBy      *uuid.UUID // the user who acknowledged it; nil when she confirmed by SMS herself
	AcknowledgementNote *string
	// AcknowledgedAs says whose word the acknowledgement is: AckArtisanSMS,
	// AckManager or AckAuditor.
	AcknowledgedAs *string
}

// Whose word a payout's acknowledgement is.
const (
	AckArtisanSMS = "artisan_sms" // she answered her receipt's SMS herself
	AckManager    = "manager"     // a manager of her group, on her word
	AckAuditor    = "auditor"     // an auditor assigned to the group, who asked her
)

// Distribution is a sharing of a group's undistributed margin.
type Distribution struct {
	ID            uuid.UUID `gorm:"primaryKey"`
	GroupID       uuid.UUID
	Method        string
	Until         time.Time
	Amount        int64
	Currency      string
	TransactionID uuid.UUID
	CreatedBy     uuid.UUID
	CreatedAt     time.Time
}
