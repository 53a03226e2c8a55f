package fairs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/ledger"
)

// SaleInput is one sale as the stall's client recorded it. ID is the
// client's UUID for it; RecordedAt when it was made.
type SaleInput struct {
	ID         string
	RecordedAt *time.Time
	Payment    string
	Items      []SaleItemInput
}

// SaleItemInput is units of one product in a sale.
type SaleItemInput struct {
	ProductID string
	Quantity  int
}

// What became of a sale of a batch.
const (
	SaleApplied   = "applied"   // recorded and booked by this batch
	SaleDuplicate = "duplicate" // recorded before (by an earlier or concurrent batch, or earlier in this one)
)

// SaleResult is what became of one sale of a batch.
type SaleResult struct {
	Sale    models.FairSale
	Status  string
	Reasons []string // why it needs reconciliation, if it does
}

// sale is a checked sale of a batch, priced.
type sale struct {
	index      int // in the batch
	id         uuid.UUID
	groupID    uuid.UUID
	recordedAt time.Time
	payment    string
	items      []item
	hash       []byte
	total      int64
}

type item struct {
	productID uuid.UUID
	quantity  int
	unitPrice int64
	line      ledger.SaleLine
	unstocked int
}

// RecordSales applies a batch of sales made at the event's stalls of groups
// the actor manages, each exactly once: a sale is applied by the transaction
// that inserts its id, so a sale sent again, in this batch or another, at
// the same time or later, on any replica, is a duplicate and changes
// nothing. Each applied sale takes its units from its stall, booking them
// even when the stall holds fewer (the sale is kept and flagged
// needs_reconciliation, as is a sale that arrives after its stall's register
// was closed), and is booked as ledger.BookCashSale books a cash-on-delivery
// sale, with each product's split inputs in force at its recorded_at. The
// batch is all or nothing: a bad sale refuses it whole. Results are in the
// batch's order. Errors: forbidden, not_found (the event), validation_failed
// (naming each bad sale and item), conflict (an id recorded before with
// other contents).
func (s *Service) RecordSales(ctx context.Context, actor services.Actor, eventID uuid.UUID, in []SaleInput) ([]SaleResult, error) {
	if actor.Role != models.RoleProducer {
		return nil, services.Forbidden("only the managers of a stall's group record its sales")
	}
	if len(in) == 0 || len(in) > MaxBatch {
		return nil, services.Invalid(map[string]string{"sales": fmt.Sprintf("must hold 1 to %d sales; send more in further batches", MaxBatch)})
	}
	db := s.db.WithContext(ctx)
	ev, err := loadEvent(db, eventID)
	if err != nil {
		return nil, err
	}
	sales, err := s.check(db, actor, ev, in)
	if err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	for _, sl := range sales {
		for _, it := range sl.items {
			ids = append(ids, it.productID)
		}
	}
	// What the catalogue says now is recorded first, in a transaction of
	// its own: it is an observation, true whatever becomes of the batch.
	if err := models.Transact(ctx, db, func(tx *gorm.DB) error { return s.observe(tx, ids) }); err != nil {
		return nil, err
	}
	if err := s.price(db, sales); err != nil {
		return nil, err
	}
	var results []SaleResult
	var booked int
	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		var err error
		results, booked, err = s.apply(tx, actor, eventID, sales)
		return err
	})
	if err != nil {
		return nil, err
	}
	if booked > 0 {
		s.opt.Metrics.LedgerBooked(ledger.KindCashSale, booked)
	}
	return results, nil
}

// check validates a batch, naming every problem, and finds each sale's stall.
func (s *Service) check(db *gorm.DB, actor services.Actor, ev models.FairEvent, in []SaleInput) ([]sale, error) {
	var fe services.FieldErrors
	sales := make([]sale, len(in))
	var productIDs []uuid.UUID
	for i, raw := range in {
		f := fmt.Sprintf("sales[%d]", i)
		sl := sale{index: i, payment: raw.Payment}
		id, err := uuid.Parse(raw.ID)
		fe.Check(err != nil || id == uuid.Nil, f+".id", "must be the sale's UUID, made by the client when the sale was recorded")
		sl.id = id
		if raw.RecordedAt == nil {
			fe.Add(f+".recorded_at", "is required")
		} else {
			sl.recordedAt = raw.RecordedAt.UTC().Truncate(time.Microsecond)
		}
		switch raw.Payment {
		case models.FairPayCash, models.FairPayJazzCash, models.FairPayEasypaisa:
		default:
			fe.Add(f+".payment", "must be cash, jazzcash or easypaisa")
		}
		if len(raw.Items) == 0 || len(raw.Items) > MaxItems {
			fe.Add(f+".items", fmt.Sprintf("must hold 1 to %d products", MaxItems))
		}
		seen := map[uuid.UUID]bool{}
		for j, it := range raw.Items {
			g := fmt.Sprintf("%s.items[%d]", f, j)
			pid, err := uuid.Parse(it.ProductID)
			fe.Check(err != nil, g+".product_id", "is not a UUID")
			fe.Check(err == nil && seen[pid], g+".product_id", "appears twice in this sale: give its units once")
			seen[pid] = true
			fe.Check(it.Quantity < 1 || it.Quantity > MaxQuantity, g+".quantity", fmt.Sprintf("must be 1 to %d", MaxQuantity))
			sl.items = append(sl.items, item{productID: pid, quantity: it.Quantity})
			productIDs = append(productIDs, pid)
		}
		sales[i] = sl
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}

	var products []models.Product
	if err := db.Select("id, group_id, currency").Where("id IN ?", productIDs).Find(&products).Error; err != nil {
		return nil, err
	}
	groupOf := map[uuid.UUID]uuid.UUID{}
	for _, p := range products {
		if p.Currency == s.opt.Currency {
			groupOf[p.ID] = p.GroupID
		}
	}
	// The stalls at this event of groups the actor manages.
	var mine []uuid.UUID
	if err := db.Model(&models.FairStall{}).Where("event_id = ? AND group_id IN (SELECT group_id FROM group_managers WHERE user_id = ?)",
		ev.ID, actor.UserID).Pluck("group_id", &mine).Error; err != nil {
		return nil, err
	}
	stalls := map[uuid.UUID]bool{}
	for _, g := range mine {
		stalls[g] = true
	}
	earliest, latest := ev.StartsAt.Add(-RecordedSlack), ev.EndsAt.Add(RecordedSlack)
	if ahead := s.now().Add(ClockSkew); ahead.Before(latest) {
		latest = ahead
	}
	first := map[uuid.UUID]int{}
	for i := range sales {
		sl := &sales[i]
		f := fmt.Sprintf("sales[%d]", i)
		for j, it := range sl.items {
			g, ok := groupOf[it.productID]
			if !ok || !stalls[g] {
				fe.Add(fmt.Sprintf("%s.items[%d].product_id", f, j), "is not a product of a stall you manage at this event")
				continue
			}
			if sl.groupID == uuid.Nil {
				sl.groupID = g
			} else if g != sl.groupID {
				fe.Add(f+".items", "must all be products of one group's stall: record a sale per stall")
			}
		}
		if sl.recordedAt.Before(earliest) || sl.recordedAt.After(latest) {
			fe.Add(f+".recorded_at", fmt.Sprintf("must be during the event (%s to %s, a day either side) and not in the future",
				ev.StartsAt.In(Karachi).Format(time.RFC3339), ev.EndsAt.In(Karachi).Format(time.RFC3339)))
		}
		sl.hash = contentHash(ev.ID, *sl)
		if j, ok := first[sl.id]; ok && !bytes.Equal(sales[j].hash, sl.hash) {
			fe.Add(f+".id", fmt.Sprintf("is also the id of sales[%d], with other contents: give each sale a UUID of its own", j))
		} else if !ok {
			first[sl.id] = i
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return sales, nil
}

// contentHash is what makes a resent sale recognisable: SHA-256 over a
// length-prefixed encoding of everything its client said about it.
func contentHash(eventID uuid.UUID, sl sale) []byte {
	h := sha256.New()
	var b []byte
	b = append(b, "karigar/fair-sale/v1"...)
	b = append(b, eventID[:]...)
	b = append(b, sl.groupID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(sl.recordedAt.UnixMicro()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(sl.payment)))
	b = append(b, sl.payment...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(sl.items)))
	for _, it := range sl.items {
		b = append(b, it.productID[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(it.quantity))
	}
	h.Write(b)
	return h.Sum(nil)
}

// price gives each item the split inputs of its product in force at its
// sale's recorded_at, and each sale its total.
func (s *Service) price(db *gorm.DB, sales []sale) error {
	var ids []uuid.UUID
	for _, sl := range sales {
		for _, it := range sl.items {
			ids = append(ids, it.productID)
		}
	}
	known, err := versions(db, ids)
	if err != nil {
		return err
	}
	var fe services.FieldErrors
	for i := range sales {
		sl := &sales[i]
		sl.total = 0
		for j := range sl.items {
			it := &sl.items[j]
			vs := known[it.productID]
			if len(vs) == 0 {
				fe.Add(fmt.Sprintf("sales[%d].items[%d].product_id", sl.index, j), "is not a product of a stall you manage at this event")
				continue
			}
			v := at(vs, sl.recordedAt)
			in, makers, err := unit(v)
			if err != nil {
				return err
			}
			if len(makers) == 0 || v.Currency != s.opt.Currency {
				fe.Add(fmt.Sprintf("sales[%d].items[%d].product_id", sl.index, j), "has no makers recorded, so its sale cannot be booked")
				continue
			}
			it.unitPrice = v.Price
			it.line = ledger.SaleLine{Line: j + 1, ProductID: it.productID, GroupID: sl.groupID, Quantity: int64(it.quantity),
				Unit: in, Makers: makers}
			sl.total += v.Price * int64(it.quantity)
		}
	}
	return fe.Err()
}

// apply records and books a checked, priced batch inside tx. Locks are
// taken in one order: the sales' ids (in id order), the stalls' rows
// (shared, in group order), their stock rows (in group and product order),
// then the ledger's.
func (s *Service) apply(tx *gorm.DB, actor services.Actor, eventID uuid.UUID, sales []sale) ([]SaleResult, int, error) {
	now := s.now()
	results := make([]SaleResult, len(sales))
	byID := slices.Clone(sales)
	slices.SortStableFunc(byID, func(a, b sale) int { return bytes.Compare(a.id[:], b.id[:]) })
	// One statement inserts them all, in id order, and returns the ids it
	// inserted: the others were there already.
	var rows []models.FairSale
	var unique []sale
	var values []string
	var args []any
	for k, sl := range byID {
		if k > 0 && byID[k-1].id == sl.id {
			continue // a copy within the batch: it repeats what becomes of the first, below
		}
		row := models.FairSale{ID: sl.id, EventID: eventID, GroupID: sl.groupID, RecordedAt: sl.recordedAt, Payment: sl.payment,
			Currency: s.opt.Currency, Total: sl.total, ContentHash: sl.hash, ReceivedBy: actor.UserID, ReceivedAt: now}
		rows, unique = append(rows, row), append(unique, sl)
		values = append(values, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, row.ID, row.EventID, row.GroupID, row.RecordedAt, row.Payment, row.Currency, row.Total,
			row.ContentHash, row.ReceivedBy, row.ReceivedAt, "")
	}
	var inserted []uuid.UUID
	if err := tx.Raw(`INSERT INTO fair_sales (id, event_id, group_id, recorded_at, payment, currency, total, content_hash,
		received_by, received_at, reasons) VALUES `+strings.Join(values, ", ")+` ON CONFLICT (id) DO NOTHING RETURNING id`, args...).
		Scan(&inserted).Error; err != nil {
		return nil, 0, err
	}
	isNew := map[uuid.UUID]bool{}
	for _, id := range inserted {
		isNew[id] = true
	}
	var known []uuid.UUID
	for _, sl := range unique {
		if !isNew[sl.id] {
			known = append(known, sl.id)
		}
	}
	before := map[uuid.UUID]models.FairSale{}
	if len(known) > 0 {
		var found []models.FairSale
		if err := tx.Where("id IN ?", known).Find(&found).Error; err != nil {
			return nil, 0, err
		}
		for _, f := range found {
			before[f.ID] = f
		}
	}
	var applied []sale
	for k, sl := range unique {
		if isNew[sl.id] {
			results[sl.index] = SaleResult{Sale: rows[k], Status: SaleApplied}
			applied = append(applied, sl)
			continue
		}
		b, ok := before[sl.id]
		if !ok || b.EventID != eventID || b.GroupID != sl.groupID || !bytes.Equal(b.ContentHash, sl.hash) {
			e := services.Conflict(services.CodeConflict,
				"sale %s was recorded before with other contents: give each sale a UUID of its own; nothing of this batch was recorded", sl.id)
			e.Fields = map[string]string{fmt.Sprintf("sales[%d].id", sl.index): "was recorded before with other contents"}
			return nil, 0, e
		}
		results[sl.index] = SaleResult{Sale: b, Status: SaleDuplicate, Reasons: ReasonsOf(b)}
	}
	booked, err := s.book(tx, eventID, applied, results)
	if err != nil {
		return nil, 0, err
	}
	// Later copies of an id within the batch repeat what became of the first.
	for k := 1; k < len(byID); k++ {
		if byID[k].id == byID[k-1].id {
			first := results[byID[k-1].index]
			results[byID[k].index] = SaleResult{Sale: first.Sale, Status: SaleDuplicate, Reasons: first.Reasons}
		}
	}
	return results, booked, nil
}

// book takes the applied sales' units from their stalls, flags those that
// need reconciliation, and books them, setting their results.
func (s *Service) book(tx *gorm.DB, eventID uuid.UUID, applied []sale, results []SaleResult) (int, error) {
	if len(applied) == 0 {
		return 0, nil
	}

	closed, err := lockStalls(tx, eventID, applied)
	if err != nil {
		return 0, err
	}
	stock, err := lockStock(tx, eventID, applied)
	if err != nil {
		return 0, err
	}
	// Units are taken in the order the sales were made, so that the sale
	// that found the stall empty is the one flagged.
	slices.SortStableFunc(applied, func(a, b sale) int {
		if c := a.recordedAt.Compare(b.recordedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	changed := map[stockKey]bool{}
	booked := 0
	var items []models.FairSaleItem
	for i := range applied {
		sl := &applied[i]
		var reasons []string
		for j := range sl.items {
			it := &sl.items[j]
			k := stockKey{sl.groupID, it.productID}
			st := stock[k]
			take := min(it.quantity, st.Quantity)
			it.unstocked = it.quantity - take
			st.Quantity -= take
			st.Sold += it.quantity
			st.Unstocked += it.unstocked
			stock[k], changed[k] = st, true
			if it.unstocked > 0 && !slices.Contains(reasons, models.FairBeyondStock) {
				reasons = append(reasons, models.FairBeyondStock)
			}
		}
		if closed[sl.groupID] {
			reasons = append(reasons, models.FairAfterClose)
		}
		if len(reasons) > 0 {
			r := &results[sl.index]
			r.Sale.NeedsReconciliation, r.Sale.Reasons, r.Reasons = true, strings.Join(reasons, ","), reasons
			if err := tx.Model(&models.FairSale{}).Where("id = ?", sl.id).
				Updates(map[string]any{"needs_reconciliation": true, "reasons": r.Sale.Reasons}).Error; err != nil {
				return 0, err
			}
		}
		lines := make([]ledger.SaleLine, len(sl.items))
		for j, it := range sl.items {
			lines[j] = it.line
		}
		ts, err := s.opt.Ledger.BookCashSale(tx, ledger.Sale{OrderID: sl.id, Source: "fair-sale:" + sl.id.String(), Lines: lines,
			Currency: s.opt.Currency})
		if err != nil {
			return 0, err
		}
		booked += len(ts)
		for j, it := range sl.items {
			items = append(items, models.FairSaleItem{SaleID: sl.id, Position: j + 1, ProductID: it.productID, Quantity: it.quantity,
				UnitPrice: it.unitPrice, Unstocked: it.unstocked, TransactionID: ts[j].ID})
		}
	}
	if err := tx.CreateInBatches(&items, 500).Error; err != nil {
		return 0, err
	}
	keys := make([]stockKey, 0, len(changed))
	for k := range changed {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, stockKey.compare)
	for _, k := range keys {
		st := stock[k]
		if err := tx.Model(&models.FairStallStock{}).
			Where("event_id = ? AND group_id = ? AND product_id = ?", eventID, k.group, k.product).
			Updates(map[string]any{"quantity": st.Quantity, "sold": st.Sold, "unstocked": st.Unstocked}).Error; err != nil {
			return 0, err
		}
	}
	return booked, nil
}

// ReasonsOf is why a sale needs reconciliation, if it does.
func ReasonsOf(s models.FairSale) []string {
	if s.Reasons == "" {
		return []string{}
	}
	return strings.Split(s.Reasons, ",")
}

type stockKey struct{ group, product uuid.UUID }

func (a stockKey) compare(b stockKey) int {
	if c := bytes.Compare(a.group[:], b.group[:]); c != 0 {
		return c
	}
	return bytes.Compare(a.product[:], b.product[:])
}

// lockStalls takes the sales' stalls' rows, shared, in group order: a close
// of one waits for the batch, or the batch for the close, and then finds the
// register closed. It reports which are closed.
func lockStalls(tx *gorm.DB, eventID uuid.UUID, sales []sale) (map[uuid.UUID]bool, error) {
	var groupIDs []uuid.UUID
	for _, sl := range sales {
		groupIDs = append(groupIDs, sl.groupID)
	}
	var stalls []models.FairStall
	if err := models.ForShare(tx).Where("event_id = ? AND group_id IN ?", eventID, groupIDs).Order("group_id").
		Find(&stalls).Error; err != nil {
		return nil, err
	}
	closed := map[uuid.UUID]bool{}
	for _, st := range stalls {
		closed[st.GroupID] = st.ClosedAt != nil
	}
	return closed, nil
}

// lockStock takes the stock rows of the sales' products at their stalls,
// in group and product order, making those that do not exist yet (a
// product sold at a stall it was never moved to).
func lockStock(tx *gorm.DB, eventID uuid.UUID, sales []sale) (map[stockKey]models.FairStallStock, error) {
	var keys []stockKey
	for _, sl := range sales {
		for _, it := range sl.items {
			keys = append(keys, stockKey{sl.groupID, it.productID})
		}
	}
	slices.SortFunc(keys, stockKey.compare)
	keys = slices.Compact(keys)
	groupIDs, productIDs := make([]uuid.UUID, len(keys)), make([]uuid.UUID, len(keys))
	for i, k := range keys {
		groupIDs[i], productIDs[i] = k.group, k.product
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.FairStallStock{EventID: eventID,
			GroupID: k.group, ProductID: k.product}).Error; err != nil {
			return nil, err
		}
	}
	var rows []models.FairStallStock
	if err := models.ForUpdate(tx).Where("event_id = ? AND group_id IN ? AND product_id IN ?", eventID, groupIDs, productIDs).
		Order("group_id, product_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[stockKey]models.FairStallStock{}
	for _, r := range rows {
		out[stockKey{r.GroupID, r.ProductID}] = r
	}
	return out, nil
}
