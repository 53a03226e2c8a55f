package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/pricing"
)

// MakerMinutes is one maker's labour on one unit.
type MakerMinutes struct {
	ArtisanID uuid.UUID
	Minutes   int64
}

// SaleLine is an order line with the inputs of its split as the order froze
// them (per unit), so that a later change of price, costs or fees does not
// change what a past sale booked.
type SaleLine struct {
	Line      int // its position in the order, from 1: part of its booking's reference
	ProductID uuid.UUID
	GroupID   uuid.UUID
	Quantity  int64
	// Unit is the frozen split inputs of one unit; its LaborMinutes and
	// MakerMinutes are those of Makers.
	Unit   pricing.Inputs
	Makers []MakerMinutes // the first takes labour's odd paisa
}

// Sale is a paid order: its lines, the payment processor's actual fee for
// the whole order (0 for cash), and each group's shipping fee.
type Sale struct {
	OrderID       uuid.UUID
	Lines         []SaleLine
	ProcessingFee int64
	Shipping      map[uuid.UUID]int64
	Currency      string
	// Source names what was sold in its bookings' references,
	// "{Source}:line:{n}:sale": "order:{OrderID}" when empty. A sale whose
	// id a client chose (a fair sale, "fair-sale:{id}") has a source of its
	// own, so that no such id can take, or be refunded as, an order's.
	Source string
}

// Work is the labour a sale or refund transaction records, signed: a
// refund's units and minutes are negative, so sums over a period net out.
type Work struct {
	OrderID  uuid.UUID
	Quantity int64
	Makers   []MakerWork
}

// MakerWork is one maker's part of a line's work (all its units).
type MakerWork struct {
	ArtisanID uuid.UUID
	Minutes   int64
	Units     int64
}

// WorkOf reads the work from the memo of a transaction of kind sale,
// cash_sale or refund, the one place that knows the memo's shape.
func WorkOf(kind, memo string) (Work, error) {
	var m saleMemo
	if err := json.Unmarshal([]byte(memo), &m); err != nil {
		return Work{}, fmt.Errorf("ledger: the memo of a %s: %w", kind, err)
	}
	sign := int64(1)
	if kind == KindRefund {
		sign = -1
	}
	w := Work{OrderID: m.OrderID, Quantity: sign * m.Quantity, Makers: make([]MakerWork, len(m.Work))}
	for i, mw := range m.Work {
		w.Makers[i] = MakerWork{ArtisanID: mw.ArtisanID, Minutes: sign * mw.Minutes, Units: sign * mw.Units}
	}
	return w, nil
}

// saleMemo is what a sale's transaction records besides its postings; the
// distributions read the work from it.
type saleMemo struct {
	OrderID   uuid.UUID  `json:"order_id"`
	Line      int        `json:"line"`
	ProductID uuid.UUID  `json:"product_id"`
	Quantity  int64      `json:"quantity"`
	Work      []workMemo `json:"work"`
	Reverses  *uuid.UUID `json:"reverses,omitempty"`
}

type workMemo struct {
	ArtisanID uuid.UUID `json:"artisan_id"`
	Minutes   int64     `json:"minutes"` // for all units of the line
	Units     int64     `json:"units"`
}

// BookSale books a card sale, one transaction per line (reference
// "order:{id}:line:{n}:sale", n the line's position in the order, on the
// line's group's chain), inside tx. It
// is idempotent: booking the same order again books nothing more, so the
// webhook and the client's confirmation may both call it.
func (s *Service) BookSale(tx *gorm.DB, sale Sale) ([]models.LedgerTransaction, error) {
	return s.bookSale(tx, sale, KindSale, TypeCardReceipts)
}

// BookCashSale books a cash-on-delivery sale when the cash is collected:
// as BookSale, with no processing fee and the cash received into the
// platform's cash receipts.
func (s *Service) BookCashSale(tx *gorm.DB, sale Sale) ([]models.LedgerTransaction, error) {
	sale.ProcessingFee = 0
	return s.bookSale(tx, sale, KindCashSale, TypeCashReceipts)
}

func (s *Service) bookSale(tx *gorm.DB, sale Sale, kind, receipts string) ([]models.LedgerTransaction, error) {
	if len(sale.Lines) == 0 || !models.ValidCurrency(sale.Currency) {
		return nil, errors.New("ledger: a sale needs lines and a currency")
	}
	amounts := make([]int64, len(sale.Lines))
	for i, l := range sale.Lines {
		if l.Line <= 0 {
			return nil, fmt.Errorf("ledger: line %d needs its position", i+1)
		}
		amounts[i] = l.Unit.Price * l.Quantity
	}
	fees, err := pricing.ApportionFee(sale.ProcessingFee, amounts)
	if err != nil {
		return nil, fmt.Errorf("ledger: the fee %d over lines %v: %w", sale.ProcessingFee, amounts, err)
	}
	entries := make([]Entry, len(sale.Lines))
	shipped := map[uuid.UUID]bool{}
	for i, l := range sale.Lines {
		if entries[i], err = saleEntry(sale, l, fees[i], kind, receipts, !shipped[l.GroupID]); err != nil {
			return nil, err
		}
		shipped[l.GroupID] = true
	}
	groups := make([]*uuid.UUID, len(sale.Lines))
	for i := range sale.Lines {
		groups[i] = &sale.Lines[i].GroupID
	}
	if err := lockChains(tx, groups); err != nil {
		return nil, err
	}
	out := make([]models.LedgerTransaction, len(entries))
	for i, e := range entries {
		if out[i], _, err = s.PostTx(tx, e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// saleEntry maps pricing's booking of one line to postings: the receipts
// to each maker's payable, the group's accounts and the platform's.
func saleEntry(sale Sale, l SaleLine, fee int64, kind, receipts string, withShipping bool) (Entry, error) {
	in := l.Unit
	in.LaborMinutes, in.MakerMinutes = 0, make([]int64, len(l.Makers))
	for j, m := range l.Makers {
		in.MakerMinutes[j] = m.Minutes
		in.LaborMinutes += m.Minutes
	}
	b, err := pricing.Book(in, l.Quantity, fee)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: line %d of order %s: %w", l.Line, sale.OrderID, err)
	}
	cur := sale.Currency
	g := Group(l.GroupID)
	received := b.Amount
	var ps []Posting
	add := func(o Owner, typ string, amt int64) {
		if amt != 0 {
			ps = append(ps, Posting{Owner: o, Type: typ, Amount: amt, Currency: cur})
		}
	}
	memo := saleMemo{OrderID: sale.OrderID, Line: l.Line, ProductID: l.ProductID, Quantity: l.Quantity}
	for j, m := range l.Makers {
		add(Artisan(m.ArtisanID, l.GroupID), TypePayable, b.MakerLabor[j])
		memo.Work = append(memo.Work, workMemo{ArtisanID: m.ArtisanID, Minutes: m.Minutes * l.Quantity, Units: l.Quantity})
	}
	add(g, TypeMaterials, b.Materials)
	add(g, TypePackaging, b.Packaging)
	add(g, TypeCollectiveFund, b.CollectiveFund)
	add(g, TypeUndistributed, b.GroupMargin)
	add(Platform, TypePlatformFees, b.PlatformFee)
	add(Platform, TypeProcessingFees, b.Processing)
	add(Platform, TypeFeesAbsorbed, -b.Absorbed)
	if withShipping {
		received += sale.Shipping[l.GroupID]
		add(g, TypeShipping, sale.Shipping[l.GroupID])
	}
	ps = append([]Posting{{Owner: Platform, Type: receipts, Amount: -received, Currency: cur}}, ps...)
	raw, err := json.Marshal(memo)
	if err != nil {
		return Entry{}, err
	}
	gid := l.GroupID
	source := sale.Source
	if source == "" {
		source = "order:" + sale.OrderID.String()
	}
	return Entry{Reference: fmt.Sprintf("%s:line:%d:sale", source, l.Line), Kind: kind, GroupID: &gid,
		Memo: string(raw), Postings: ps}, nil
}

// BookRefund reverses exactly what the sale of an order booked, line by
// line (reference "order:{id}:line:{n}:refund"), inside tx. Booking it again
// books nothing more. What an artisan or the group no longer holds (paid
// out, shared) the platform advances (see advance), so no account is
// refused. Errors: invalid_state (the order has no sale booked).
func (s *Service) BookRefund(tx *gorm.DB, orderID uuid.UUID) ([]models.LedgerTransaction, error) {
	var sales []models.LedgerTransaction
	prefix := fmt.Sprintf("order:%s:line:", orderID)
	if err := tx.Where("reference LIKE ? AND kind IN ?", prefix+"%", []string{KindSale, KindCashSale}).
		Order("reference").Find(&sales).Error; err != nil {
		return nil, err
	}
	if len(sales) == 0 {
		return nil, errNoSale
	}
	groups := make([]*uuid.UUID, len(sales))
	for i := range sales {
		groups[i] = sales[i].GroupID
	}
	if err := lockChains(tx, groups); err != nil {
		return nil, err
	}
	var out []models.LedgerTransaction
	for _, sale := range sales {
		var ps []models.LedgerPosting
		if err := tx.Where("transaction_id = ?", sale.ID).Order("position").Find(&ps).Error; err != nil {
			return nil, err
		}
		var accounts []models.LedgerAccount
		ids := make([]uuid.UUID, len(ps))
		for i, p := range ps {
			ids[i] = p.AccountID
		}
		if err := tx.Where("id IN ?", ids).Find(&accounts).Error; err != nil {
			return nil, err
		}
		byID := map[uuid.UUID]models.LedgerAccount{}
		for _, a := range accounts {
			byID[a.ID] = a
		}
		e := Entry{Reference: strings.TrimSuffix(sale.Reference, ":sale") + ":refund", Kind: KindRefund, GroupID: sale.GroupID}
		for _, p := range ps {
			a := byID[p.AccountID]
			o := Owner{Kind: a.OwnerKind, ID: a.OwnerID}
			if a.GroupID != nil {
				o.GroupID = *a.GroupID
			}
			e.Postings = append(e.Postings, Posting{Owner: o, Type: a.Type, Amount: -p.Amount, Currency: p.Currency})
		}
		var memo saleMemo
		if err := json.Unmarshal([]byte(sale.Memo), &memo); err != nil {
			return nil, err
		}
		id := sale.ID
		memo.Reverses = &id
		raw, err := json.Marshal(memo)
		if err != nil {
			return nil, err
		}
		e.Memo = string(raw)
		// Locked before anything is read, so the balances measured hold
		// until the refund commits, and a refund booked meanwhile is seen.
		chain := PlatformChain
		if sale.GroupID != nil {
			chain = sale.GroupID.String()
		}
		advanced := Posting{Owner: Platform, Type: TypeRefundsAdvanced, Currency: e.Postings[0].Currency}
		_, locked, err := s.lock(tx, chain, append(slices.Clone(e.Postings), advanced))
		if err != nil {
			return nil, err
		}
		var prior models.LedgerTransaction
		if err := tx.Where("reference = ?", e.Reference).Limit(1).Find(&prior).Error; err != nil {
			return nil, err
		}
		if prior.ID != uuid.Nil {
			out = append(out, prior)
			continue
		}
		e.Postings = advance(e.Postings, locked)
		t, _, err := s.PostTx(tx, e)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// advance moves the part of each of a refund's postings that its account
// can no longer give (an artisan's earnings paid out to her, a margin shared
// among the artisans) to the platform's refunds_advanced account, by the
// balances as locked: the buyer gets all her money back, and no artisan is
// asked for money she was paid. Without a shortfall the refund is the exact
// reversal of the sale.
func advance(ps []Posting, accounts map[accountKey]models.LedgerAccount) []Posting {
	left := map[accountKey]int64{}
	for _, p := range ps {
		if p.Amount > 0 {
			left[key(p)] += p.Amount
		}
	}
	var out []Posting
	var short int64
	for _, p := range ps {
		k := key(p)
		a := accounts[k]
		if p.Amount > 0 || a.MayGoNegative {
			out = append(out, p)
			continue
		}
		take := min(-p.Amount, max(a.Balance+left[k], 0))
		left[k] -= take
		if take > 0 {
			q := p
			q.Amount = -take
			out = append(out, q)
		}
		short += -p.Amount - take
	}
	if short > 0 {
		out = append(out, Posting{Owner: Platform, Type: TypeRefundsAdvanced, Amount: -short, Currency: ps[0].Currency})
	}
	return out
}
