package models

import (
	"time"

	"github.com/google/uuid"
)

// Fair sale payments: cash into the stall's register, or a mobile wallet.
const (
	FairPayCash      = "cash"
	FairPayJazzCash  = "jazzcash"
	FairPayEasypaisa = "easypaisa"
)

// Why a fair sale needs reconciliation.
const (
	// FairBeyondStock: the stall did not hold all the units the sale recorded.
	FairBeyondStock = "beyond_stall_stock"
	// FairAfterClose: the sale reached the books after the stall's register
	// was closed, so the cash counted at the close did not expect it.
	FairAfterClose = "after_register_close"
)

// FairEvent is a craft fair or exhibition.
type FairEvent struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	Name      string
	Venue     string
	District  string
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy uuid.UUID
	CreatedAt time.Time
}

// FairStall is a group's stall at an event, and its register once closed.
type FairStall struct {
	EventID            uuid.UUID `gorm:"primaryKey"`
	GroupID            uuid.UUID `gorm:"primaryKey"`
	CreatedBy          uuid.UUID
	CreatedAt          time.Time
	ClosedAt           *time.Time
	ClosedBy           *uuid.UUID
	ExpectedCash       *int64
	CountedCash        *int64
	OverShort          *int64
	CloseTransactionID *uuid.UUID
}

// FairStallStock is the units of one product at a stall.
type FairStallStock struct {
	EventID   uuid.UUID `gorm:"primaryKey"`
	GroupID   uuid.UUID `gorm:"primaryKey"`
	ProductID uuid.UUID `gorm:"primaryKey"`
	Quantity  int
	MovedIn   int
	Returned  int
	Sold      int
	Unstocked int // of Sold, the units the stall did not hold
}

// TableName: the stock of stalls.
func (FairStallStock) TableName() string { return "fair_stall_stock" }

// FairStockMove is units moved to a stall (positive) or back online.
type FairStockMove struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	EventID   uuid.UUID
	GroupID   uuid.UUID
	ProductID uuid.UUID
	Quantity  int
	MovedBy   uuid.UUID
	MovedAt   time.Time
}

// FairSale is a sale made at a stall, under the id its client gave it.
type FairSale struct {
	ID                  uuid.UUID `gorm:"primaryKey"`
	EventID             uuid.UUID
	GroupID             uuid.UUID
	RecordedAt          time.Time
	Payment             string
	Currency            string
	Total               int64
	NeedsReconciliation bool
	Reasons             string // comma-separated FairBeyondStock, FairAfterClose
	ContentHash         []byte
	ReceivedBy          uuid.UUID
	ReceivedAt          time.Time
}

// FairSaleItem is one product of a fair sale, at the unit price it was
// booked at, and its ledger transaction.
type FairSaleItem struct {
	SaleID        uuid.UUID `gorm:"primaryKey"`
	Position      int       `gorm:"primaryKey"`
	ProductID     uuid.UUID
	Quantity      int
	UnitPrice     int64
	Unstocked     int
	TransactionID uuid.UUID
}

// FairPrice is a product's split inputs in force from EffectiveFrom, as the
// fairs service saw them at SeenAt.
type FairPrice struct {
	ProductID         uuid.UUID `gorm:"primaryKey"`
	EffectiveFrom     time.Time `gorm:"primaryKey"`
	Currency          string
	Price             int64
	Materials         int64
	Packaging         int64
	HourlyWage        int64
	PlatformFeeBPS    int    `gorm:"column:platform_fee_bps"`
	ProcessingBPS     int    `gorm:"column:processing_bps"`
	CollectiveFundBPS int    `gorm:"column:collective_fund_bps"`
	Makers            string // JSON: [{artisan_id, minutes}] per unit
	SeenAt            time.Time
}
