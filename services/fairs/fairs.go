// Package fairs runs craft fairs and exhibitions (contract section 14):
// events and their stalls, units moved from a product's online stock to its
// group's stall and back all or nothing, sales made offline and sent later
// in batches, each applied exactly once under the id its client gave it,
// booked like a cash-on-delivery sale (ledger.BookCashSale, through the one
// split in services/pricing) with the product's split at the moment the sale
// was recorded, the register's close with any cash over or short posted to
// the group's over/short account, the event's report and its price labels.
//
// Nothing here keeps stock, money or the once-only rule in memory: a sale is
// applied by the transaction that inserts its id (a primary key), so two
// replicas given the same batch at once book each sale once.
package fairs

import (
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/page"
)

// Limits of what one request may ask.
const (
	// MaxBatch is the most sales one batch may hold; more go in further batches.
	MaxBatch = 100
	// MaxItems is the most products one sale may hold.
	MaxItems = 20
	// MaxQuantity is the most units of one product one sale may hold.
	MaxQuantity = 1000
	// MaxMove is the most units one stock move may carry.
	MaxMove = 10000
	// MaxEventDays is the longest an event may last.
	MaxEventDays = 60
	// RecordedSlack is how far before an event's start or after its end a
	// sale's recorded_at may be: a phone's clock or time zone may be off.
	RecordedSlack = 24 * time.Hour
	// ClockSkew is how far ahead of the server's clock recorded_at may be.
	ClockSkew = 5 * time.Minute
)

// Options configure a Service.
type Options struct {
	Currency  string
	Ledger    *ledger.Service
	CursorKey []byte
	Now       func() time.Time
	Metrics   services.Metrics // nil: none
}

// Service is the fairs service.
type Service struct {
	db     *gorm.DB
	opt    Options
	cursor page.Codec
}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) || opt.Ledger == nil || len(opt.CursorKey) == 0 {
		return nil, errors.New("fairs: a currency, the ledger and a cursor key are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Metrics == nil {
		opt.Metrics = services.NoMetrics{}
	}
	return &Service{db: db, opt: opt, cursor: page.NewCodec(opt.CursorKey)}, nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Currency is the deployment's currency.
func (s *Service) Currency() string { return s.opt.Currency }

// Karachi is Pakistan's time (models.Karachi).
var Karachi = models.Karachi

func money(amount int64, currency string) string { return models.NewMoney(amount, currency).String() }
