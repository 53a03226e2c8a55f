package orders

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/ledger"
)

// load reads an order with its lines and parts, locking the order row when
// lock is set (PostgreSQL): every change of an order's state takes this
// lock first, then products, then the ledger.
func (s *Service) load(tx *gorm.DB, id uuid.UUID, lock bool) (Order, error) {
	var o Order
	q := tx
	if lock {
		q = models.ForUpdate(tx)
	}
	if err := q.Where("id = ?", id).Limit(1).Find(&o.Order).Error; err != nil {
		return o, err
	}
	if o.ID == uuid.Nil {
		return o, services.NotFound("order")
	}
	if err := tx.Where("order_id = ?", id).Order("position").Find(&o.Lines).Error; err != nil {
		return o, err
	}
	if err := tx.Where("order_id = ?", id).Order("group_id").Find(&o.Groups).Error; err != nil {
		return o, err
	}
	return o, s.openAddress(&o)
}

// setStatus moves an order, refusing with invalid_state unless it is in one of from.
func setStatus(tx *gorm.DB, o *Order, to, payment string, now any, from ...string) error {
	if !slices.Contains(from, o.Status) {
		return services.Conflict(services.CodeInvalidState, "the order is %s: it cannot become %s", o.Status, to)
	}
	o.Status = to
	fields := map[string]any{"status": to, "updated_at": now}
	if payment != "" {
		o.PaymentStatus = payment
		fields["payment_status"] = payment
	}
	return tx.Model(&models.Order{}).Where("id = ?", o.ID).Updates(fields).Error
}

// release ends an unpaid order (cancelled or expired) and gives its stock back.
func (s *Service) release(ctx context.Context, id uuid.UUID, status, payment string) error {
	return models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		o, err := s.load(tx, id, true)
		if err != nil {
			return err
		}
		if err := setStatus(tx, &o, status, payment, s.now(), models.OrderPendingPayment); err != nil {
			return err
		}
		return s.endParts(tx, o)
	})
}

// endParts gives back what an order took (the stock of its lines, then an
// order cycle's offer units and slot place: the lock order) and cancels its
// parts.
func (s *Service) endParts(tx *gorm.DB, o Order) error {
	if err := restoreStock(tx, o.Lines); err != nil {
		return err
	}
	if err := s.releaseCycles(tx, []Order{o}); err != nil {
		return err
	}
	return tx.Model(&models.OrderGroup{}).Where("order_id = ?", o.ID).Update("status", models.PartCancelled).Error
}

var errShippedPart = services.Conflict(services.CodeInvalidState, "part of the order was shipped: it can no longer be cancelled")

// Cancel is the buyer's cancellation before anything was shipped: an unpaid
// card order is cancelled (and its payment intent), a cash order is
// cancelled, a paid order is refunded through the provider and its sale
// reversed in the ledger. Stock comes back in every case, and an order
// cycle's slot place and offer quantities. Errors: not_found (not her
// order), invalid_state (shipped, or ended), cycle_closed (its order cycle
// has closed: what was ordered is being made).
func (s *Service) Cancel(ctx context.Context, actor services.Actor, id uuid.UUID) (Order, error) {
	db := s.db.WithContext(ctx)
	o, err := s.load(db, id, false)
	if err != nil || o.BuyerID != actor.UserID {
		if err == nil || services.IsCode(err, services.CodeNotFound) {
			return Order{}, services.NotFound("order")
		}
		return Order{}, err
	}
	if !all(o.Groups, models.PartPending) {
		return o, errShippedPart
	}
	if err := s.cancellable(db, o); err != nil {
		return o, err
	}
	if o.Status == models.OrderPaid && o.ProviderRef != nil {
		if s.opt.Payments == nil {
			return o, services.Unavailable("card payments are not configured here: the order cannot be refunded now")
		}
		// The refund is asked for first and is idempotent per order, so a retry after a
		// failure below asks again harmlessly.
		if _, err := s.opt.Payments.Refund(ctx, o.ID, *o.ProviderRef); err != nil {
			s.opt.Logger.Error("refund failed", "order_id", o.ID, "error", err.Error())
			return o, services.Unavailable("the refund could not be made now: the order is unchanged, try again")
		}
	}
	var eff effects
	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		eff = effects{}
		var err error
		if o, err = s.load(tx, id, true); err != nil {
			return err
		}
		if !all(o.Groups, models.PartPending) {
			return errShippedPart
		}
		if err := s.cancellable(tx, o); err != nil {
			return err
		}
		switch o.Status {
		case models.OrderPaid:
			if err := eff.book(s.opt.Ledger.BookRefund(tx, o.ID)); err != nil {
				return err
			}
			err = setStatus(tx, &o, models.OrderRefunded, models.PaymentRefunded, s.now(), models.OrderPaid)
		case models.OrderPendingPayment:
			err = setStatus(tx, &o, models.OrderCancelled, models.PaymentCancelled, s.now(), models.OrderPendingPayment)
		default:
			err = setStatus(tx, &o, models.OrderCancelled, "", s.now(), models.OrderConfirmed)
		}
		if err != nil {
			return err
		}
		eff.outcomes = append(eff.outcomes, o.Status)
		return s.endParts(tx, o)
	})
	if err != nil {
		return o, err
	}
	s.report(eff)
	if o.Status == models.OrderCancelled && o.ProviderRef != nil {
		s.cancelIntent(ctx, o)
	}
	return s.load(db, id, false)
}

// cancellable refuses the cancellation of an order of an order cycle that
// has closed: its groups are making what it ordered.
func (s *Service) cancellable(db *gorm.DB, o Order) error {
	if o.OrderCycleID == nil || (o.Status != models.OrderConfirmed && o.Status != models.OrderPaid && o.Status != models.OrderPendingPayment) {
		return nil
	}
	if s.opt.Market == nil {
		return errNoMarket
	}
	if err := s.opt.Market.Open(db, *o.OrderCycleID, s.now()); services.IsCode(err, services.CodeCycleClosed) {
		return services.Conflict(services.CodeCycleClosed,
			"the order cycle has closed and its groups are making what was ordered: the order can no longer be cancelled")
	} else if err != nil {
		return err
	}
	return nil
}

// cancelIntent cancels an ended order's payment intent, best effort: were
// it paid after all, its payment_intent.succeeded is refunded on arrival.
func (s *Service) cancelIntent(ctx context.Context, o Order) {
	if s.opt.Payments == nil || o.ProviderRef == nil {
		return
	}
	if err := s.opt.Payments.Cancel(context.WithoutCancel(ctx), *o.ProviderRef); err != nil {
		s.opt.Logger.Warn("payment intent not cancelled", "order_id", o.ID, "error", err.Error())
	}
}

// ShipInput is a group's shipment of its part of an order.
type ShipInput struct {
	GroupID        uuid.UUID
	Carrier        string
	TrackingNumber string
}

// Ship records that a group sent its part of a paid or confirmed order; the
// order is shipped when every part is. Errors: not_found (not a manager of
// a group in the order), validation_failed, invalid_state.
func (s *Service) Ship(ctx context.Context, actor services.Actor, id uuid.UUID, in ShipInput) (Order, error) {
	in.Carrier, in.TrackingNumber = strings.TrimSpace(in.Carrier), strings.TrimSpace(in.TrackingNumber)
	var fe services.FieldErrors
	fe.Check(!services.TextWithin(in.Carrier, 0, 100), "carrier", "must be at most 100 characters")
	fe.Check(!services.TextWithin(in.TrackingNumber, 0, 100), "tracking_number", "must be at most 100 characters")
	if err := fe.Err(); err != nil {
		return Order{}, err
	}
	return s.movePart(ctx, actor, id, in.GroupID, false, func(tx *gorm.DB, o *Order, part *models.OrderGroup) error {
		if o.OrderCycleID != nil {
			return services.Conflict(services.CodeInvalidState, "the order is in an order cycle: its coordinator hands it over "+
				"at its pickup point or in its delivery zone, and it is never sent by courier")
		}
		if part.Status != models.PartPending || (o.Status != models.OrderPaid && o.Status != models.OrderConfirmed && o.Status != models.OrderShipped) {
			return services.Conflict(services.CodeInvalidState, "the order is %s and this group's part %s: it cannot be shipped", o.Status, part.Status)
		}
		now := s.now()
		fields := map[string]any{"status": models.PartShipped, "shipped_at": now}
		if in.Carrier != "" {
			fields["carrier"] = in.Carrier
		}
		if in.TrackingNumber != "" {
			fields["tracking_number"] = in.TrackingNumber
		}
		if err := tx.Model(&models.OrderGroup{}).Where("order_id = ? AND group_id = ?", o.ID, part.GroupID).Updates(fields).Error; err != nil {
			return err
		}
		part.Status = models.PartShipped
		if all(o.Groups, models.PartShipped) {
			return setStatus(tx, o, models.OrderShipped, "", now, models.OrderPaid, models.OrderConfirmed)
		}
		return nil
	})
}

// Deliver records that a group's part reached the buyer. For cash on
// delivery this is when the cash is collected and that part's sale is
// booked in the ledger; cashCollected, when given, must be the part's
// amount. The order is delivered when every part is. Errors: not_found,
// validation_failed, invalid_state (also when a line's price as ordered does
// not cover its costs and fees, so its sale cannot be booked).
func (s *Service) Deliver(ctx context.Context, actor services.Actor, id, groupID uuid.UUID, cashCollected *models.Money) (Order, error) {
	var eff effects
	o, err := s.movePart(ctx, actor, id, groupID, true, func(tx *gorm.DB, o *Order, part *models.OrderGroup) error {
		eff = effects{}
		if part.Status != models.PartShipped {
			return services.Conflict(services.CodeInvalidState, "this group's part is %s: only a shipped part can be delivered", part.Status)
		}
		cash := o.PaymentMethod == models.PayCashOnDelivery
		if cashCollected != nil {
			var fe services.FieldErrors
			fe.Check(!cash, "cash_collected", "is only for cash on delivery")
			fe.Check(cashCollected.Currency != o.Currency, "cash_collected.currency", "must be "+o.Currency)
			fe.Check(cash && cashCollected.Currency == o.Currency && cashCollected.Amount != part.Amount, "cash_collected.amount",
				"must be the part's amount, "+models.NewMoney(part.Amount, o.Currency).String())
			if err := fe.Err(); err != nil {
				return err
			}
		}
		now := s.now()
		if err := s.deliverPart(tx, o, part, now, &eff); err != nil {
			return err
		}
		if all(o.Groups, models.PartDelivered) {
			payment := ""
			if cash {
				payment = models.PaymentCollected
			}
			eff.outcomes = append(eff.outcomes, models.OrderDelivered)
			return setStatus(tx, o, models.OrderDelivered, payment, now, models.OrderShipped)
		}
		return nil
	})
	if err == nil {
		s.report(eff)
	}
	return o, err
}

// deliverPart marks one group's part of an order delivered. For cash on
// delivery this is when its cash is collected and its sale is booked
// (ledger.BookCashSale, which books an order line once whoever asks): the
// one place a cash sale is booked, for a courier's delivery (Deliver) and
// an order cycle's handover (HandOver) alike.
func (s *Service) deliverPart(tx *gorm.DB, o *Order, part *models.OrderGroup, now time.Time, eff *effects) error {
	fields := map[string]any{"status": models.PartDelivered, "delivered_at": now}
	if o.PaymentMethod == models.PayCashOnDelivery {
		fields["cash_collected"] = part.Amount
		if err := eff.book(s.opt.Ledger.BookCashSale(tx, s.sale(*o, part.GroupID))); err != nil {
			return err
		}
	}
	if err := tx.Model(&models.OrderGroup{}).Where("order_id = ? AND group_id = ?", o.ID, part.GroupID).Updates(fields).Error; err != nil {
		return err
	}
	part.Status = models.PartDelivered
	return nil
}

// movePart runs change on one group's part of an order, under the order's
// lock, for a manager of that group (or an admin, when admins may).
func (s *Service) movePart(ctx context.Context, actor services.Actor, id, groupID uuid.UUID, admins bool,
	change func(tx *gorm.DB, o *Order, part *models.OrderGroup) error) (Order, error) {
	db := s.db.WithContext(ctx)
	allowed := admins && actor.Role == models.RoleAdmin
	if !allowed {
		if actor.Role != models.RoleProducer {
			return Order{}, services.Forbidden("only the group's managers can do this")
		}
		ok, err := groups.IsManager(db, groupID, actor.UserID)
		if err != nil {
			return Order{}, err
		}
		if !ok {
			return Order{}, services.NotFound("order")
		}
	}
	err := models.Transact(ctx, db, func(tx *gorm.DB) error {
		o, err := s.load(tx, id, true)
		if err != nil {
			return err
		}
		for i := range o.Groups {
			if o.Groups[i].GroupID == groupID {
				return change(tx, &o, &o.Groups[i])
			}
		}
		return services.NotFound("order")
	})
	if err != nil {
		return Order{}, err
	}
	return s.load(db, id, false)
}

func all(parts []models.OrderGroup, status string) bool {
	for _, p := range parts {
		if p.Status != status {
			return false
		}
	}
	return true
}

// sale is an order's lines (of one group, or all when groupID is Nil) as
// the ledger books them.
func (s *Service) sale(o Order, groupID uuid.UUID) ledger.Sale {
	sale := ledger.Sale{OrderID: o.ID, Currency: o.Currency, Shipping: map[uuid.UUID]int64{}}
	for _, g := range o.Groups {
		if groupID == uuid.Nil || g.GroupID == groupID {
			sale.Shipping[g.GroupID] = g.ShippingFee
		}
	}
	for _, l := range o.Lines {
		if groupID != uuid.Nil && l.GroupID != groupID {
			continue
		}
		var makers []ledger.MakerMinutes
		_ = json.Unmarshal([]byte(l.Makers), &makers) // written by price from the same type
		sale.Lines = append(sale.Lines, ledger.SaleLine{Line: l.Position, ProductID: l.ProductID, GroupID: l.GroupID,
			Quantity: int64(l.Quantity), Makers: makers, Unit: frozenInputs(l)})
	}
	return sale
}

// ExpireDue expires the unpaid card orders whose time is up: stock back,
// payment intent cancelled. Safe with several replicas: on PostgreSQL each
// sweeper skips the orders another holds (FOR UPDATE SKIP LOCKED). It
// returns how many it expired.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	db := s.db.WithContext(ctx)
	var due []models.Order
	err := models.Transact(ctx, db, func(tx *gorm.DB) error {
		due = nil
		now := s.now()
		q := s.engine.claimDue(tx.Where("status = ? AND expires_at < ?", models.OrderPendingPayment, now).Order("expires_at").Limit(100))
		if err := q.Find(&due).Error; err != nil || len(due) == 0 {
			return err
		}
		ids := make([]uuid.UUID, len(due))
		for i, d := range due {
			ids[i] = d.ID
		}
		var lines []models.OrderLine
		if err := tx.Where("order_id IN ?", ids).Order("order_id, position").Find(&lines).Error; err != nil {
			return err
		}
		// Every order's stock in one pass in product id order, then the order cycles' offer
		// units and slot places, as checkouts take them.
		if err := restoreStock(tx, lines); err != nil {
			return err
		}
		if err := s.releaseCycles(tx, withLines(due, lines)); err != nil {
			return err
		}
		if err := tx.Model(&models.Order{}).Where("id IN ?", ids).Updates(map[string]any{"status": models.OrderExpired,
			"payment_status": models.PaymentCancelled, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Model(&models.OrderGroup{}).Where("order_id IN ?", ids).Update("status", models.PartCancelled).Error
	})
	if err != nil {
		return 0, err
	}
	for _, d := range due {
		s.opt.Metrics.Order(models.OrderExpired)
		s.cancelIntent(ctx, Order{Order: d})
	}
	return len(due), nil
}

// withLines pairs orders with their lines.
func withLines(os []models.Order, lines []models.OrderLine) []Order {
	out := make([]Order, len(os))
	at := map[uuid.UUID]int{}
	for i, o := range os {
		out[i].Order, at[o.ID] = o, i
	}
	for _, l := range lines {
		out[at[l.OrderID]].Lines = append(out[at[l.OrderID]].Lines, l)
	}
	return out
}
