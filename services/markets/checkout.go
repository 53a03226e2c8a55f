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
// a conditional UPDATE that cannot pass its cap: an offer's units
// (sold + q <= max_quantity) and a slot's orders (taken < max_orders). On
// PostgreSQL such an UPDATE locks its row until the checkout commits or
// rolls back, and a checkout waiting for it reads the row as that one left
// it. Rows are locked in the global order (models/lock.go): the products
// (by the orders service), then the offers in product id order, then the
// slot, which every checkout into it shares, just before the commit.
type Checkout struct{ engine engine }

var _ orders.Market = Checkout{}

// engine is what checkout does differently on each database, chosen once
// in NewCheckout: PostgreSQL's in engine_postgres.go, SQLite's in
// engine_sqlite.go.
type engine struct {
	// queueForSlot adds to a slot's UPDATE (its text and arguments)
	// whatever makes concurrent checkouts into it wait in turn.
	queueForSlot func(q string, args []any, slot uuid.UUID) (string, []any)
}

var engines = map[models.Dialect]engine{models.Postgres: postgresEngine, models.SQLite: sqliteEngine}

// NewCheckout returns the Checkout for db's engine.
func NewCheckout(db *gorm.DB) Checkout { return Checkout{engine: engines[models.DialectOf(db)]} }

// Check: see orders.Market. What it reads may change before Take; Take's
// UPDATEs decide. It refuses early what would be refused anyway, without
// taking a lock: a full slot, an offer with too few units left.
func (Checkout) Check(tx *gorm.DB, r orders.Reservation) (orders.Delivery, error) {
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
	var offers []models.CycleOffer
	if err := tx.Where("cycle_id = ? AND product_id IN ?", c.ID, ids).Find(&offers).Error; err != nil {
		return orders.Delivery{}, err
	}
	offerOf := map[uuid.UUID]models.CycleOffer{}
	for _, o := range offers {
		offerOf[o.ProductID] = o
	}
	var short []string
	for _, l := range r.Lines {
		o, offered := offerOf[l.ProductID]
		fe.Check(!offered, fmt.Sprintf("items[%d].product_id", l.Position-1), "is not offered in this order cycle")
		if left := (Offer{CycleOffer: o}).Left(); offered && left != nil && *left < l.Quantity {
			short = append(short, shortOf(l, *left))
		}
	}
	if err := fe.Err(); err != nil {
		return orders.Delivery{}, err
	}
	if slot.Taken >= slot.MaxOrders {
		return orders.Delivery{}, slotFull(slot)
	}
	if len(short) > 0 {
		return orders.Delivery{}, notEnough(short)
	}
	return d, nil
}

// Take: see orders.Market.
func (c Checkout) Take(tx *gorm.DB, r orders.Reservation) error {
	var short []string
	for _, l := range byProduct(r.Lines) {
		res := tx.Exec("UPDATE cycle_offers SET sold = sold + ? WHERE cycle_id = ? AND product_id = ? "+
			"AND (max_quantity IS NULL OR sold + ? <= max_quantity)", l.Quantity, r.CycleID, l.ProductID, l.Quantity)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var o models.CycleOffer
			if err := tx.Where("cycle_id = ? AND product_id = ?", r.CycleID, l.ProductID).First(&o).Error; err != nil {
				return err
			}
			left := 0
			if l := (Offer{CycleOffer: o}).Left(); l != nil {
				left = *l
			}
			short = append(short, shortOf(l, left))
		}
	}
	if len(short) > 0 {
		return notEnough(short)
	}
	q, args := c.engine.queueForSlot("UPDATE cycle_slots SET taken = taken + 1 WHERE id = ? AND cycle_id = ? AND taken < max_orders",
		[]any{r.SlotID, r.CycleID}, r.SlotID)
	res := tx.Exec(q, args...)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		var slot models.CycleSlot
		if err := tx.Where("id = ?", r.SlotID).First(&slot).Error; err != nil {
			return err
		}
		return slotFull(slot)
	}
	return nil
}

func shortOf(l orders.ReservedLine, left int) string {
	return fmt.Sprintf("%q (%s, %d asked, %d left)", l.Title, l.ProductID, l.Quantity, left)
}

func notEnough(short []string) error {
	return services.Conflict(services.CodeInsufficientStock, "not enough left in this order cycle of %s; nothing was taken",
		strings.Join(short, ", "))
}

func slotFull(slot models.CycleSlot) error {
	return services.Conflict(services.CodeSlotFull,
		"the slot of %s to %s (Pakistan time) has all the %d orders it takes: choose another slot; nothing was taken",
		Local(slot.StartsAt), slot.EndsAt.In(Pakistan).Format("15:04"), slot.MaxOrders)
}

// Release: see orders.Market. Units and places go back in the lock order:
// offers in cycle and product id order, then slots in id order.
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
