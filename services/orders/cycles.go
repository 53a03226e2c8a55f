package orders

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Market is what a checkout inside an order cycle asks of the cycles
// (services/markets), inside the checkout's own transaction, so that the
// slot's place, the offers' units and the stock are taken together or not
// at all. The checkout runs Check (reads only), takes the stock, writes
// the order, and runs Take last, just before it commits: Take's
// conditional UPDATEs lock the offers and then the slot, the rows most
// checkouts of a market share, for the least time. That is the global lock
// order (models/lock.go): products, then offers, then slots. Cancellations
// and the expiry sweep give the stock back, then Release gives back the
// offers' units and the slot's place.
type Market interface {
	// Check checks that the cycle takes orders at r.Now, that the slot is
	// one of its own (for a delivery slot, that r.City is in the zone) and
	// has a place left, and that every line's product is offered in it
	// with enough units left, taking no lock; it returns how the order is
	// handed over. Errors: validation_failed (no such cycle, another
	// cycle's slot, a product not offered, a city outside the zone),
	// cycle_closed, slot_full, insufficient_stock (an offer's max_quantity
	// reached).
	Check(tx *gorm.DB, r Reservation) (Delivery, error)
	// Take takes each line's units from its offer, then a place in the
	// slot, by conditional UPDATEs that decide whatever Check read. Errors:
	// slot_full, insufficient_stock.
	Take(tx *gorm.DB, r Reservation) error
	// Release gives back what Take took for orders that end unmade
	// (cancelled, expired, unpaid), at any time.
	Release(tx *gorm.DB, rs []Reservation) error
	// Open is nil while the cycle takes orders at now, else cycle_closed.
	Open(tx *gorm.DB, cycleID uuid.UUID, now time.Time) error
}

// Reservation is an order's claim on an order cycle: its slot's place and
// its lines' quantities.
type Reservation struct {
	CycleID uuid.UUID
	SlotID  uuid.UUID
	Now     time.Time
	City    string // the shipping address's, for a delivery zone
	Lines   []ReservedLine
}

// ReservedLine is one line of a Reservation.
type ReservedLine struct {
	Position  int // from 1, as in the request's items (items[Position-1])
	ProductID uuid.UUID
	Title     string
	Quantity  int
}

// Delivery is how an order of a cycle reaches its buyer.
type Delivery struct {
	Fee                int64 // the delivery zone's, once per order; 0 at a pickup point
	CoordinatorGroupID uuid.UUID
}

func reservationOf(o Order, now time.Time) Reservation {
	return Reservation{CycleID: *o.OrderCycleID, SlotID: *o.CycleSlotID, Now: now, City: o.Address.City, Lines: reserved(o.Lines)}
}

func reserved(lines []models.OrderLine) []ReservedLine {
	var rs []ReservedLine
	for _, l := range lines {
		rs = append(rs, ReservedLine{Position: l.Position, ProductID: l.ProductID, Title: l.Title, Quantity: l.Quantity})
	}
	return rs
}

// settle sets each part's shipping fee and amount and the order's totals
// from its lines. An order in a cycle (d not nil) pays no group's courier
// fee but the delivery zone's fee, once: on the coordinating group's part
// when it has one, else on the part of its first line's group (parts are
// in the order of their groups' first lines), whose shipping account the
// sale books it to.
func settle(o *Order, d *Delivery) {
	if d != nil && len(o.Groups) > 0 {
		at := 0
		for i := range o.Groups {
			o.Groups[i].ShippingFee = 0
			if o.Groups[i].GroupID == d.CoordinatorGroupID {
				at = i
			}
		}
		o.Groups[at].ShippingFee = d.Fee
	}
	goods := map[uuid.UUID]int64{}
	o.Subtotal, o.Shipping = 0, 0
	for _, l := range o.Lines {
		o.Subtotal += l.LineTotal
		goods[l.GroupID] += l.LineTotal
	}
	for i := range o.Groups {
		o.Groups[i].Amount = goods[o.Groups[i].GroupID] + o.Groups[i].ShippingFee
		o.Shipping += o.Groups[i].ShippingFee
	}
	o.Total = o.Subtotal + o.Shipping
}

var errNoMarket = errors.New("orders: an order of an order cycle, and no Market to release it")

// releaseCycles gives back the offer units and slot places of those of os
// placed in cycles; callers do it after giving back their stock (the lock
// order).
func (s *Service) releaseCycles(tx *gorm.DB, os []Order) error {
	var rs []Reservation
	for _, o := range os {
		if o.OrderCycleID != nil && o.CycleSlotID != nil {
			rs = append(rs, reservationOf(o, s.now()))
		}
	}
	if len(rs) == 0 {
		return nil
	}
	if s.opt.Market == nil {
		return errNoMarket
	}
	return s.opt.Market.Release(tx, rs)
}

// HandOver records that an order of the order cycle cycleID reached its
// buyer at its pickup point or in its delivery zone, every group's part at
// once. For a cash order this is when the cash is collected, and each
// part's sale is booked exactly as a delivery books it (deliverPart);
// cashCollected, when given, must be the order's total. A paid card order
// was booked when it was paid. The caller (services/markets) has decided
// that the actor coordinates the cycle. Errors: not_found (no such order in
// the cycle), validation_failed, invalid_state (awaiting payment, ended,
// or handed over already).
func (s *Service) HandOver(ctx context.Context, cycleID, id uuid.UUID, cashCollected *models.Money) (Order, error) {
	db := s.db.WithContext(ctx)
	var eff effects
	err := models.Transact(ctx, db, func(tx *gorm.DB) error {
		eff = effects{}
		o, err := s.load(tx, id, true)
		if services.IsCode(err, services.CodeNotFound) || err == nil && (o.OrderCycleID == nil || *o.OrderCycleID != cycleID) {
			return services.NotFound("order")
		} else if err != nil {
			return err
		}
		if o.Status != models.OrderConfirmed && o.Status != models.OrderPaid {
			return services.Conflict(services.CodeInvalidState,
				"the order is %s: only a confirmed cash order or a paid card order is handed over", o.Status)
		}
		cash := o.PaymentMethod == models.PayCashOnDelivery
		if cashCollected != nil {
			var fe services.FieldErrors
			fe.Check(!cash, "cash_collected", "is only for an order paid in cash")
			fe.Check(cashCollected.Currency != o.Currency, "cash_collected.currency", "must be "+o.Currency)
			fe.Check(cash && cashCollected.Currency == o.Currency && cashCollected.Amount != o.Total, "cash_collected.amount",
				"must be the order's total, "+models.NewMoney(o.Total, o.Currency).String())
			if err := fe.Err(); err != nil {
				return err
			}
		}
		now := s.now()
		for i := range o.Groups {
			if o.Groups[i].Status != models.PartPending {
				continue
			}
			if err := s.deliverPart(tx, &o, &o.Groups[i], now, &eff); err != nil {
				return err
			}
		}
		payment := ""
		if cash {
			payment = models.PaymentCollected
		}
		eff.outcomes = append(eff.outcomes, models.OrderDelivered)
		return setStatus(tx, &o, models.OrderDelivered, payment, now, models.OrderConfirmed, models.OrderPaid)
	})
	if err != nil {
		return Order{}, err
	}
	s.report(eff)
	return s.load(db, id, false)
}

// CycleOrders is the orders of an order cycle that are to be made and
// handed over, oldest first, with their lines, parts and the buyer's
// address: confirmed cash orders, paid card orders and those handed over
// already (not those awaiting a card payment, nor cancelled or expired
// ones). It decides nothing about who may see them: services/markets does.
func (s *Service) CycleOrders(ctx context.Context, cycleID uuid.UUID) ([]Order, error) {
	db := s.db.WithContext(ctx)
	var rows []models.Order
	if err := db.Where("order_cycle_id = ? AND status IN ?", cycleID,
		[]string{models.OrderConfirmed, models.OrderPaid, models.OrderShipped, models.OrderDelivered}).
		Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	return s.fill(db, rows, nil)
}
