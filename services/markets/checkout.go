package markets

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/orders"
)

// Checkout is the order cycles' part of a checkout inside a cycle
// (orders.Market): it runs in the checkout's transaction and keeps no
// state, so any number of replicas may take orders at once. Every limit is
// a conditional UPDATE that cannot pass its cap: a slot's orders
// (taken < max_orders) and an offer's units (sold + q <= max_quantity).
// On PostgreSQL the UPDATE locks its row until the checkout commits or
// rolls back, and a checkout waiting for it reads the row as that one left
// it. Rows are locked in the global order (models/lock.go): the slot, then
// the offers in product id order, then (by the orders service) the
// products in id order.
type Checkout struct{}

var _ orders.Market = Checkout{}

// Reserve: see orders.Market.
func (Checkout) Reserve(tx *gorm.DB, r orders.Reservation) (orders.Delivery, error) {
	var c models.OrderCycle
	if err := tx.Where("id = ?", r.CycleID).Limit(1).Find(&c).Error; err != nil {
		return orders.Delivery{}, err
	}
	if c.ID == uuid.Nil {
		return orders.Delivery{}, services.Invalid(map[string]string{"order_cycle_id": "is not an order cycle"})
	}
	if err := takesOrders(c, r.Now); err != nil {
		return orders.Delivery{}, err
	}
	var slot models.CycleSlot
	if err := tx.Where("id = ? AND cycle_id = ?", r.SlotID, c.ID).Limit(1).Find(&slot).Error; err != nil {
		return orders.Delivery{}, err
	}
	var fe services.FieldErrors
	if slot.ID == uuid.Nil {
		fe.Add("slot_id", "is not a pickup or delivery slot of this order cycle")
	}
	d := orders.Delivery{CoordinatorGroupID: c.CoordinatorGroupID}
	if slot.DeliveryZoneID != nil {
		var z models.DeliveryZone
		if err := tx.Where("id = ?", *slot.DeliveryZoneID).First(&z).Error; err != nil {
			return orders.Delivery{}, err
		}
		if !slices.ContainsFunc(z.Districts, func(d string) bool { return districtKey(d) == districtKey(r.City) }) {
			fe.Add("shipping_address.city", fmt.Sprintf("is not in the delivery zone %q, which delivers to %s: choose one of its "+
				"districts, another zone's slot or a pickup point", z.Name, strings.Join(z.Districts, ", ")))
		}
		d.Fee = z.Fee
	}
	ids := make([]uuid.UUID, len(r.Lines))
	for i, l := range r.Lines {
		ids[i] = l.ProductID
	}
	var offered []uuid.UUID
	if err := tx.Model(&models.CycleOffer{}).Where("cycle_id = ? AND product_id IN ?", c.ID, ids).
		Pluck("product_id", &offered).Error; err != nil {
		return orders.Delivery{}, err
	}
	for _, l := range r.Lines {
		fe.Check(!slices.Contains(offered, l.ProductID), fmt.Sprintf("items[%d].product_id", l.Position-1),
			"is not offered in this order cycle")
	}
	if err := fe.Err(); err != nil {
		return orders.Delivery{}, err
	}
	res := tx.Exec("UPDATE cycle_slots SET taken = taken + 1 WHERE id = ? AND taken < max_orders", slot.ID)
	if res.Error != nil {
		return orders.Delivery{}, res.Error
	}
	if res.RowsAffected == 0 {
		return orders.Delivery{}, services.Conflict(services.CodeSlotFull,
			"the slot of %s to %s (Pakistan time) has all the %d orders it takes: choose another slot; nothing was taken",
			Local(slot.StartsAt), slot.EndsAt.In(Pakistan).Format("15:04"), slot.MaxOrders)
	}
	var short []string
	for _, l := range byProduct(r.Lines) {
		res := tx.Exec("UPDATE cycle_offers SET sold = sold + ? WHERE cycle_id = ? AND product_id = ? "+
			"AND (max_quantity IS NULL OR sold + ? <= max_quantity)", l.Quantity, c.ID, l.ProductID, l.Quantity)
		if res.Error != nil {
			return orders.Delivery{}, res.Error
		}
		if res.RowsAffected == 0 {
			var o models.CycleOffer
			if err := tx.Where("cycle_id = ? AND product_id = ?", c.ID, l.ProductID).First(&o).Error; err != nil {
				return orders.Delivery{}, err
			}
			left := Offer{CycleOffer: o}.Left()
			short = append(short, fmt.Sprintf("%q (%s, %d asked, %d left)", l.Title, l.ProductID, l.Quantity, *left))
		}
	}
	if len(short) > 0 {
		return orders.Delivery{}, services.Conflict(services.CodeInsufficientStock,
			"not enough left in this order cycle of %s; nothing was taken", strings.Join(short, ", "))
	}
	return d, nil
}

// Release: see orders.Market. Places and units go back in the lock order:
// slots in id order, then offers in cycle and product id order.
func (Checkout) Release(tx *gorm.DB, rs []orders.Reservation) error {
	type offerKey struct{ cycle, product uuid.UUID }
	slots := map[uuid.UUID]int{}
	units := map[offerKey]int{}
	for _, r := range rs {
		slots[r.SlotID]++
		for _, l := range r.Lines {
			units[offerKey{r.CycleID, l.ProductID}] += l.Quantity
		}
	}
	slotIDs := make([]uuid.UUID, 0, len(slots))
	for id := range slots {
		slotIDs = append(slotIDs, id)
	}
	slices.SortFunc(slotIDs, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range slotIDs {
		if err := tx.Exec("UPDATE cycle_slots SET taken = taken - ? WHERE id = ?", slots[id], id).Error; err != nil {
			return err
		}
	}
	keys := make([]offerKey, 0, len(units))
	for k := range units {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b offerKey) int {
		if c := bytes.Compare(a.cycle[:], b.cycle[:]); c != 0 {
			return c
		}
		return bytes.Compare(a.product[:], b.product[:])
	})
	for _, k := range keys {
		if err := tx.Exec("UPDATE cycle_offers SET sold = sold - ? WHERE cycle_id = ? AND product_id = ?",
			units[k], k.cycle, k.product).Error; err != nil {
			return err
		}
	}
	return nil
}

// Open: see orders.Market.
func (Checkout) Open(tx *gorm.DB, cycleID uuid.UUID, now time.Time) error {
	c, err := cycleRow(tx, cycleID)
	if err != nil {
		return err
	}
	return takesOrders(c, now)
}

// takesOrders is nil while c is open at now, else cycle_closed.
func takesOrders(c models.OrderCycle, now time.Time) error {
	switch StatusAt(c, now) {
	case Upcoming:
		return services.Conflict(services.CodeCycleClosed, "the order cycle %q opens at %s (Pakistan time): it takes no orders yet",
			c.Name, Local(c.OpensAt))
	case Closed:
		return services.Conflict(services.CodeCycleClosed, "the order cycle %q closed at %s (Pakistan time): it takes no more orders",
			c.Name, Local(c.ClosesAt))
	}
	return nil
}

// byProduct is lines in product id order: the order offers are locked in.
func byProduct(lines []orders.ReservedLine) []orders.ReservedLine {
	sorted := slices.Clone(lines)
	slices.SortStableFunc(sorted, func(a, b orders.ReservedLine) int { return bytes.Compare(a.ProductID[:], b.ProductID[:]) })
	return sorted
}
