package markets

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Limits of a cycle's shape.
const (
	MaxPlaces    = 20    // pickup points, and delivery zones
	MaxSlots     = 20    // per pickup point or zone
	MaxDistricts = 50    // per zone
	MaxOrders    = 10000 // per slot
	MaxQuantity  = 10000 // an offer's cap
	maxFee       = 100_000_000
)

// CycleInput is a new order cycle.
type CycleInput struct {
	Name               string
	CoordinatorGroupID string
	OpensAt, ClosesAt  *time.Time
	PickupPoints       []PickupInput
	DeliveryZones      []ZoneInput
}

// PickupInput is a pickup point and its slots.
type PickupInput struct {
	Name, Address, District string
	Slots                   []SlotInput
}

// ZoneInput is a delivery zone and its slots.
type ZoneInput struct {
	Name      string
	Districts []string
	Fee       *models.Money
	Slots     []SlotInput
}

// SlotInput is a time for handing orders over, and how many it takes.
type SlotInput struct {
	StartsAt, EndsAt *time.Time
	MaxOrders        *int
}

// Create makes an order cycle coordinated by a verified group the actor
// manages (admins: any verified group). Errors: forbidden (neither a
// producer nor an admin), validation_failed (every problem at once: a
// cycle that closes before it opens or has closed already, no place to
// hand orders over, a zone with no districts, slots that end before they
// start, overlap another of their place's, or begin before the cycle
// closes, ...).
func (s *Service) Create(ctx context.Context, actor services.Actor, in CycleInput) (Cycle, error) {
	if actor.Role != models.RoleProducer && actor.Role != models.RoleAdmin {
		return Cycle{}, services.Forbidden("only the managers of a verified group, who coordinate it, and admins create order cycles")
	}
	db := s.db.WithContext(ctx)
	now := s.now()
	c := models.OrderCycle{ID: models.NewID(), Name: strings.TrimSpace(in.Name), Currency: s.opt.Currency, CreatedBy: actor.UserID,
		CreatedAt: now}
	var fe services.FieldErrors
	fe.Check(!services.TextWithin(c.Name, 1, 120), "name", "must be 1 to 120 characters")
	if err := s.coordinator(db, actor, in.CoordinatorGroupID, &c, &fe); err != nil {
		return Cycle{}, err
	}
	fe.Check(in.OpensAt == nil, "opens_at", "is required")
	fe.Check(in.ClosesAt == nil, "closes_at", "is required")
	if in.OpensAt != nil && in.ClosesAt != nil {
		c.OpensAt, c.ClosesAt = instant(*in.OpensAt), instant(*in.ClosesAt)
		fe.Check(!c.ClosesAt.After(c.OpensAt), "closes_at", "must be after opens_at")
		fe.Check(!c.ClosesAt.After(now), "closes_at", "must be in the future")
	}
	fe.Check(len(in.PickupPoints)+len(in.DeliveryZones) == 0, "pickup_points",
		"a cycle needs at least one pickup point or delivery zone to hand its orders over")
	fe.Check(len(in.PickupPoints) > MaxPlaces, "pickup_points", fmt.Sprintf("must list at most %d pickup points", MaxPlaces))
	fe.Check(len(in.DeliveryZones) > MaxPlaces, "delivery_zones", fmt.Sprintf("must list at most %d delivery zones", MaxPlaces))

	var points []models.PickupPoint
	var zones []models.DeliveryZone
	var slots []models.CycleSlot
	for i, p := range in.PickupPoints {
		f := fmt.Sprintf("pickup_points[%d]", i)
		pp := models.PickupPoint{ID: models.NewID(), CycleID: c.ID, Position: i + 1, Name: strings.TrimSpace(p.Name),
			Address: strings.TrimSpace(p.Address), District: strings.TrimSpace(p.District)}
		fe.Check(!services.TextWithin(pp.Name, 1, 120), f+".name", "must be 1 to 120 characters")
		fe.Check(!services.TextWithin(pp.Address, 1, 300), f+".address", "must be 1 to 300 characters")
		fe.Check(!services.TextWithin(pp.District, 1, 80), f+".district", "must be 1 to 80 characters")
		points = append(points, pp)
		slots = append(slots, placeSlots(c, f, p.Slots, &pp.ID, nil, &fe)...)
	}
	for i, z := range in.DeliveryZones {
		f := fmt.Sprintf("delivery_zones[%d]", i)
		dz := models.DeliveryZone{ID: models.NewID(), CycleID: c.ID, Position: i + 1, Name: strings.TrimSpace(z.Name)}
		fe.Check(!services.TextWithin(dz.Name, 1, 120), f+".name", "must be 1 to 120 characters")
		fe.Check(len(z.Districts) == 0, f+".districts", "must name at least one district the zone delivers to")
		fe.Check(len(z.Districts) > MaxDistricts, f+".districts", fmt.Sprintf("must name at most %d districts", MaxDistricts))
		seen := map[string]bool{}
		for _, d := range z.Districts {
			d = strings.TrimSpace(d)
			fe.Check(!services.TextWithin(d, 1, 80), f+".districts", "each district must be 1 to 80 characters")
			fe.Check(seen[districtKey(d)], f+".districts", fmt.Sprintf("names %q twice", d))
			seen[districtKey(d)] = true
			dz.Districts = append(dz.Districts, d)
		}
		if z.Fee == nil {
			fe.Add(f+".fee", "is required (0 for free delivery)")
		} else {
			fe.Check(z.Fee.Currency != s.opt.Currency, f+".fee.currency", "must be "+s.opt.Currency)
			fe.Check(z.Fee.Amount < 0 || z.Fee.Amount > maxFee, f+".fee.amount", fmt.Sprintf("must be from 0 to %d", maxFee))
			dz.Fee = z.Fee.Amount
		}
		zones = append(zones, dz)
		slots = append(slots, placeSlots(c, f, z.Slots, nil, &dz.ID, &fe)...)
	}
	if err := fe.Err(); err != nil {
		return Cycle{}, err
	}
	err := models.Transact(ctx, db, func(tx *gorm.DB) error {
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if len(points) > 0 {
			if err := tx.Create(&points).Error; err != nil {
				return err
			}
		}
		if len(zones) > 0 {
			if err := tx.Create(&zones).Error; err != nil {
				return err
			}
		}
		return tx.Create(&slots).Error
	})
	if err != nil {
		return Cycle{}, err
	}
	return s.Get(ctx, c.ID)
}

// coordinator checks the coordinating group: verified, and managed by the
// actor unless an admin asks.
func (s *Service) coordinator(db *gorm.DB, actor services.Actor, raw string, c *models.OrderCycle, fe *services.FieldErrors) error {
	id, err := uuid.Parse(raw)
	if err != nil {
		fe.Add("coordinator_group_id", "is not a UUID")
		return nil
	}
	q := db.Where("id = ? AND status = ?", id, models.GroupVerified)
	if actor.Role != models.RoleAdmin {
		q = q.Where("id IN (SELECT group_id FROM group_managers WHERE user_id = ?)", actor.UserID)
	}
	var g models.Group
	if err := q.Limit(1).Find(&g).Error; err != nil {
		return err
	}
	if g.ID == uuid.Nil {
		fe.Add("coordinator_group_id", "is not a verified group you manage")
		return nil
	}
	c.CoordinatorGroupID = g.ID
	return nil
}

// placeSlots validates a place's slots: each ends after it starts, begins
// no earlier than the cycle closes (what is ordered is made after), takes
// 1 to MaxOrders orders, and overlaps none of the place's other slots.
func placeSlots(c models.OrderCycle, place string, in []SlotInput, point, zone *uuid.UUID, fe *services.FieldErrors) []models.CycleSlot {
	fe.Check(len(in) == 0, place+".slots", "must list at least one slot")
	fe.Check(len(in) > MaxSlots, place+".slots", fmt.Sprintf("must list at most %d slots", MaxSlots))
	out := make([]models.CycleSlot, 0, len(in))
	var valid []int // indexes of slots with a good window
	for j, sl := range in {
		f := fmt.Sprintf("%s.slots[%d]", place, j)
		row := models.CycleSlot{ID: models.NewID(), CycleID: c.ID, PickupPointID: point, DeliveryZoneID: zone}
		fe.Check(sl.StartsAt == nil, f+".starts_at", "is required")
		fe.Check(sl.EndsAt == nil, f+".ends_at", "is required")
		if sl.MaxOrders == nil {
			fe.Add(f+".max_orders", "is required")
		} else {
			row.MaxOrders = *sl.MaxOrders
			fe.Check(row.MaxOrders < 1 || row.MaxOrders > MaxOrders, f+".max_orders", fmt.Sprintf("must be from 1 to %d", MaxOrders))
		}
		if sl.StartsAt != nil && sl.EndsAt != nil {
			row.StartsAt, row.EndsAt = instant(*sl.StartsAt), instant(*sl.EndsAt)
			switch {
			case !row.EndsAt.After(row.StartsAt):
				fe.Add(f+".ends_at", "must be after starts_at: the slot ends before it starts")
			case !c.ClosesAt.IsZero() && row.StartsAt.Before(c.ClosesAt):
				fe.Add(f+".starts_at", "must not be before the cycle closes (closes_at): what is ordered is made after it closes")
			default:
				valid = append(valid, j)
			}
		}
		out = append(out, row)
	}
	slices.SortFunc(valid, func(a, b int) int { return out[a].StartsAt.Compare(out[b].StartsAt) })
	for k := 1; k < len(valid); k++ {
		prev, cur := valid[k-1], valid[k]
		if out[cur].StartsAt.Before(out[prev].EndsAt) {
			later := max(prev, cur)
			fe.Add(fmt.Sprintf("%s.slots[%d]", place, later), fmt.Sprintf("overlaps slots[%d] of the same place", min(prev, cur)))
		}
	}
	return out
}

// instant is t in UTC at the precision the databases keep.
func instant(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// districtKey is how districts compare: case and spacing aside.
func districtKey(d string) string { return strings.ToLower(strings.Join(strings.Fields(d), " ")) }
