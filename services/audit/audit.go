// Package audit answers the questions NGO auditors and donors ask, from the
// ledger (not from order rows, which could disagree with it): did each
// artisan get what the sales owed her, was it paid, did she confirm it, does
// she earn the wage benchmark, and have the books been altered.
package audit

import (
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/ledger"
)

// UnconfirmedAfter is how old an unacknowledged payout must be to be a finding.
const UnconfirmedAfter = 14 * 24 * time.Hour

// Options configure a Service.
type Options struct {
	Currency string
	Ledger   *ledger.Service
	Now      func() time.Time
}

// Service computes audit reports.
type Service struct {
	db  *gorm.DB
	opt Options
}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) || opt.Ledger == nil {
		return nil, errors.New("audit: a currency and the ledger are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, opt: opt}, nil
}

// Period is a report's time range over ledger transaction times: From
// inclusive, To exclusive; either may be open.
type Period struct {
	From, To *time.Time
}

// posting is one posting of the period with what the reports need of its
// transaction and account.
type posting struct {
	TransactionID uuid.UUID
	Kind          string
	Memo          string
	GroupID       *uuid.UUID
	Amount        int64
	OwnerKind     string
	OwnerID       uuid.UUID
	Type          string
	OccurredAt    time.Time
}

// postings reads the period's postings of the given groups' chains (all
// groups when groupIDs is nil), in one query.
func (s *Service) postings(db *gorm.DB, groupIDs []uuid.UUID, p Period) ([]posting, error) {
	q := db.Table("ledger_postings p").
		Select("p.transaction_id, t.kind, t.memo, t.group_id, p.amount, a.owner_kind, a.owner_id, a.type, t.occurred_at").
		Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
		Joins("JOIN ledger_accounts a ON a.id = p.account_id").
		Where("t.group_id IS NOT NULL AND p.currency = ?", s.opt.Currency)
	if groupIDs != nil {
		q = q.Where("t.group_id IN ?", groupIDs)
	}
	q = inPeriod(q, "t.occurred_at", p)
	var out []posting
	err := q.Order("t.occurred_at, t.id, p.position").Scan(&out).Error
	return out, err
}

func inPeriod(q *gorm.DB, col string, p Period) *gorm.DB {
	if p.From != nil {
		q = q.Where(col+" >= ?", *p.From)
	}
	if p.To != nil {
		q = q.Where(col+" < ?", *p.To)
	}
	return q
}

func isSale(kind string) bool { return kind == ledger.KindSale || kind == ledger.KindCashSale }

// figures is what the postings of a set of transactions add up to.
type figures struct {
	sales, shipping, refunds, fund, platformFee, processingFee int64
	orders                                                     map[uuid.UUID]bool
	units                                                      int64
	earned, paid, minutes                                      map[uuid.UUID]int64 // by artisan
	shares                                                     []int64             // artisan share of each sale line, bps
	sold                                                       map[uuid.UUID]int64 // by artisan: her part of the goods (figures.go)
}

// add folds postings into figures, transaction by transaction.
func add(ps []posting) (figures, error) {
	f := figures{orders: map[uuid.UUID]bool{}, earned: map[uuid.UUID]int64{}, paid: map[uuid.UUID]int64{},
		minutes: map[uuid.UUID]int64{}, sold: map[uuid.UUID]int64{}}
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && ps[j].TransactionID == ps[i].TransactionID {
			j++
		}
		if err := f.transaction(ps[i:j]); err != nil {
			return f, err
		}
		i = j
	}
	return f, nil
}

func (f *figures) transaction(ps []posting) error {
	kind := ps[0].Kind
	sale, refund := isSale(kind), kind == ledger.KindRefund
	var receipts, shipping, toMakers int64
	for _, p := range ps {
		switch {
		case p.Type == ledger.TypeCardReceipts || p.Type == ledger.TypeCashReceipts:
			receipts += p.Amount
		case p.Type == ledger.TypeShipping:
			shipping += p.Amount
		case p.Type == ledger.TypeCollectiveFund:
			f.fund += p.Amount
		case p.Type == ledger.TypePlatformFees:
			f.platformFee += p.Amount
		case p.Type == ledger.TypeProcessingFees:
			f.processingFee += p.Amount
		case p.Type == ledger.TypeUndistributed && (sale || refund):
			toMakers += p.Amount
		case p.Type == ledger.TypePayable && kind == ledger.KindPayout:
			f.paid[p.OwnerID] -= p.Amount
		case p.Type == ledger.TypePayable:
			f.earned[p.OwnerID] += p.Amount
			if sale || refund {
				toMakers += p.Amount
			}
		}
	}
	if !sale && !refund {
		return nil
	}
	goods := -receipts - shipping // a refund's are negative
	f.shipping += shipping
	if refund {
		f.refunds -= goods
	} else {
		f.sales += goods
		if goods > 0 {
			f.shares = append(f.shares, toMakers*10000/goods)
		}
	}
	w, err := ledger.WorkOf(kind, ps[0].Memo)
	if err != nil {
		return err
	}
	if !refund {
		f.orders[w.OrderID] = true
	}
	f.units += w.Quantity
	for _, m := range w.Makers {
		f.minutes[m.ArtisanID] += m.Minutes
	}
	return f.attribute(goods, w)
}

// median of bps values, rounded down; 0 for none.
func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
