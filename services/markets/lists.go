package markets

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/orders"
)

// SlotRef is a slot with the place it belongs to.
type SlotRef struct {
	models.CycleSlot
	Place Place // without its slots
}

// Production is what each group makes for a closed cycle: every product it
// offers, with the units ordered in all and in each slot.
type Production struct {
	Cycle  Cycle
	Groups []GroupProduction // by group name
}

// GroupProduction is one group's part of a Production.
type GroupProduction struct {
	GroupID   uuid.UUID
	GroupName string
	Products  []ProductProduction // by title
}

// ProductProduction is the units of one product to make.
type ProductProduction struct {
	ProductID uuid.UUID
	Title     string
	Quantity  int
	Slots     []SlotQuantity // the slots with units of it, in time order
}

// SlotQuantity is the units of a product to hand over in a slot.
type SlotQuantity struct {
	Slot     SlotRef
	Quantity int
}

// Production returns what to make for a cycle that has closed, counted
// from its orders that are to be handed over (orders.CycleOrders). The
// coordinator and admins see every group's; the managers (and assigned
// auditors) of a group that offers in the cycle see their own groups'.
// Errors: not_found, forbidden, invalid_state (the cycle takes orders
// still).
func (s *Service) Production(ctx context.Context, actor services.Actor, cycleID uuid.UUID) (Production, error) {
	db := s.db.WithContext(ctx)
	c, err := s.Get(ctx, cycleID)
	if err != nil {
		return Production{}, err
	}
	if err := closedAt(c.OrderCycle, s.now(), "its production list is ready once it closes"); err != nil {
		return Production{}, err
	}
	visible, err := producers(db, actor, c)
	if err != nil {
		return Production{}, err
	}
	os, err := s.opt.Orders.CycleOrders(ctx, c.ID)
	if err != nil {
		return Production{}, err
	}
	slotByID := c.slots()
	type key struct{ product, slot uuid.UUID }
	units := map[key]int{}
	for _, o := range os {
		for _, l := range o.Lines {
			units[key{l.ProductID, *o.CycleSlotID}] += l.Quantity
		}
	}
	out := Production{Cycle: c}
	for _, of := range c.Offers {
		if !visible[of.GroupID] {
			continue
		}
		if n := len(out.Groups); n == 0 || out.Groups[n-1].GroupID != of.GroupID {
			out.Groups = append(out.Groups, GroupProduction{GroupID: of.GroupID, GroupName: of.GroupName, Products: []ProductProduction{}})
		}
		g := &out.Groups[len(out.Groups)-1]
		pp := ProductProduction{ProductID: of.ProductID, Title: of.Product.Title, Slots: []SlotQuantity{}}
		for _, sl := range c.slotsInTime() {
			if q := units[key{of.ProductID, sl.ID}]; q > 0 {
				pp.Slots = append(pp.Slots, SlotQuantity{Slot: slotByID[sl.ID], Quantity: q})
				pp.Quantity += q
			}
		}
		g.Products = append(g.Products, pp)
	}
	return out, nil
}

// producers is the groups whose production actor sees: all of the cycle's
// for its coordinator and admins, else those of the offering groups the
// actor may read (groups.ReadableIDs: her managed groups, an auditor's
// assigned ones). Errors: forbidden when none.
func producers(db *gorm.DB, actor services.Actor, c Cycle) (map[uuid.UUID]bool, error) {
	offering := map[uuid.UUID]bool{}
	for _, o := range c.Offers {
		offering[o.GroupID] = true
	}
	all, err := groups.SeesBuyers(db, actor, c.CoordinatorGroupID)
	if err != nil {
		return nil, err
	}
	if all {
		return offering, nil
	}
	forbidden := services.Forbidden("only the managers of the groups offering in this order cycle, and its coordinator, see its production list")
	readable, every, err := groups.ReadableIDs(db, actor)
	if services.IsCode(err, services.CodeForbidden) {
		return nil, forbidden
	} else if err != nil {
		return nil, err
	}
	visible := map[uuid.UUID]bool{}
	if every {
		return offering, nil
	}
	var mine []uuid.UUID
	if err := readable.Pluck("group_id", &mine).Error; err != nil {
		return nil, err
	}
	for _, id := range mine {
		if offering[id] {
			visible[id] = true
		}
	}
	if len(visible) == 0 {
		return nil, forbidden
	}
	return visible, nil
}

// Packing is what the coordinator hands to whom in a closed cycle: per
// pickup point or delivery zone and slot, each order with its items and
// its buyer's name and phone (and, for a delivery, the address).
type Packing struct {
	Cycle  Cycle
	Places []PackingPlace // pickup points, then delivery zones, as the cycle lists them
}

// PackingPlace is one place's slots.
type PackingPlace struct {
	Place Place
	Slots []PackingSlot // in time order
}

// PackingSlot is one slot's orders, oldest first.
type PackingSlot struct {
	Slot   models.CycleSlot
	Orders []orders.Order
}

// Packing returns the packing list of a cycle that has closed, to its
// coordinator and admins only (groups.SeesBuyers): it holds buyers'
// personal data. The orders are read through the orders service, which
// owns the buyer's address. Errors: not_found, forbidden, invalid_state
// (the cycle takes orders still).
func (s *Service) Packing(ctx context.Context, actor services.Actor, cycleID uuid.UUID) (Packing, error) {
	db := s.db.WithContext(ctx)
	c, err := s.Get(ctx, cycleID)
	if err != nil {
		return Packing{}, err
	}
	if err := coordinates(db, actor, c.OrderCycle, "sees its packing list, which names its buyers"); err != nil {
		return Packing{}, err
	}
	if err := closedAt(c.OrderCycle, s.now(), "its packing list is ready once it closes"); err != nil {
		return Packing{}, err
	}
	os, err := s.opt.Orders.CycleOrders(ctx, c.ID)
	if err != nil {
		return Packing{}, err
	}
	inSlot := map[uuid.UUID][]orders.Order{}
	for _, o := range os {
		inSlot[*o.CycleSlotID] = append(inSlot[*o.CycleSlotID], o)
	}
	out := Packing{Cycle: c}
	for _, p := range c.Places() {
		pp := PackingPlace{Place: p, Slots: make([]PackingSlot, len(p.Slots))}
		for i, sl := range p.Slots {
			pp.Slots[i] = PackingSlot{Slot: sl, Orders: inSlot[sl.ID]}
		}
		out.Places = append(out.Places, pp)
	}
	return out, nil
}

// HandOver records, for the cycle's coordinator or an admin, that an order
// of a closed cycle reached its buyer; a cash order's sale is booked then,
// as a delivery books it (orders.HandOver). Errors: not_found (no such
// cycle, or no such order in it), forbidden, invalid_state (the cycle takes
// orders still; the order awaits payment, ended, or was handed over),
// validation_failed (cash_collected is not the order's total).
func (s *Service) HandOver(ctx context.Context, actor services.Actor, cycleID, orderID uuid.UUID, cash *models.Money) (orders.Order, error) {
	db := s.db.WithContext(ctx)
	c, err := cycleRow(db, cycleID)
	if err != nil {
		return orders.Order{}, err
	}
	if err := coordinates(db, actor, c, "records its handovers"); err != nil {
		return orders.Order{}, err
	}
	if err := closedAt(c, s.now(), "its orders are handed over in their slots, once it closes"); err != nil {
		return orders.Order{}, err
	}
	return s.opt.Orders.HandOver(ctx, c.ID, orderID, cash)
}

// slots maps the cycle's slot ids to the slots with their places.
func (c Cycle) slots() map[uuid.UUID]SlotRef {
	out := map[uuid.UUID]SlotRef{}
	for _, p := range c.Places() {
		place := p
		place.Slots = nil
		for _, sl := range p.Slots {
			out[sl.ID] = SlotRef{CycleSlot: sl, Place: place}
		}
	}
	return out
}

// slotsInTime is every slot of the cycle by start, then place.
func (c Cycle) slotsInTime() []models.CycleSlot {
	var out []models.CycleSlot
	for _, p := range c.Places() {
		out = append(out, p.Slots...)
	}
	slices.SortStableFunc(out, func(a, b models.CycleSlot) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), strings.Compare(a.ID.String(), b.ID.String()))
	})
	return out
}
