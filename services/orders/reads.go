package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/pii"
)

// Get returns an order to its buyer, to admins, and to the managers and
// assigned auditors of a group in it (groups.ReadableIDs), who see only
// those groups' lines and parts.
// Anyone else gets not_found.
func (s *Service) Get(ctx context.Context, actor services.Actor, id uuid.UUID) (Order, error) {
	db := s.db.WithContext(ctx)
	o, err := s.load(db, id, false)
	if err != nil {
		return Order{}, err
	}
	switch {
	case actor.Role == models.RoleAdmin || (actor.Role == models.RoleBuyer && o.BuyerID == actor.UserID):
		return o, nil
	case actor.Role == models.RoleProducer || actor.Role == models.RoleAuditor:
		readable, _, err := groups.ReadableIDs(db, actor)
		if err != nil {
			return Order{}, err
		}
		var mine []uuid.UUID
		if err := readable.Pluck("group_id", &mine).Error; err != nil {
			return Order{}, err
		}
		if o = onlyGroups(o, mine); len(o.Groups) > 0 {
			return o, nil
		}
	}
	return Order{}, services.NotFound("order")
}

// onlyGroups keeps the lines and parts of the given groups.
func onlyGroups(o Order, ids []uuid.UUID) Order {
	keep := map[uuid.UUID]bool{}
	for _, id := range ids {
		keep[id] = true
	}
	var lines []models.OrderLine
	for _, l := range o.Lines {
		if keep[l.GroupID] {
			lines = append(lines, l)
		}
	}
	var parts []models.OrderGroup
	for _, g := range o.Groups {
		if keep[g.GroupID] {
			parts = append(parts, g)
		}
	}
	o.Lines, o.Groups = lines, parts
	return o
}

// List is a buyer's own orders, newest first.
func (s *Service) List(ctx context.Context, actor services.Actor, cursor string, limit int) ([]Order, string, error) {
	if actor.Role != models.RoleBuyer {
		return nil, "", services.Forbidden("only buyers have orders; group managers see theirs at /groups/{id}/orders")
	}
	db := s.db.WithContext(ctx)
	return s.page(db, db.Model(&models.Order{}).Where("buyer_id = ?", actor.UserID), "orders|"+actor.UserID.String(), cursor, limit, nil)
}

// GroupOrders is the orders with a part for a group its manager sees,
// newest first, with only that group's lines. Errors: forbidden, not_found.
func (s *Service) GroupOrders(ctx context.Context, actor services.Actor, groupID uuid.UUID, cursor string, limit int) ([]Order, string, error) {
	db := s.db.WithContext(ctx)
	if _, err := groups.Managed(db, actor, groupID); err != nil {
		return nil, "", err
	}
	q := db.Model(&models.Order{}).Where("id IN (SELECT order_id FROM order_groups WHERE group_id = ?)", groupID)
	return s.page(db, q, "group-orders|"+groupID.String(), cursor, limit, []uuid.UUID{groupID})
}

// page reads one page of orders newest first, with their lines and parts in
// two more queries (no query per order).
func (s *Service) page(db, q *gorm.DB, scope, cursor string, limit int, only []uuid.UUID) ([]Order, string, error) {
	if cursor != "" {
		var t time.Time
		var id uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &t, &id); err != nil {
			return nil, "", err
		}
		q = q.Where("(created_at, id) < (?, ?)", t.UTC(), id)
	}
	var rows []models.Order
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = s.cursor.Encode(scope, last.CreatedAt.UTC(), last.ID)
	}
	out, err := s.fill(db, rows, only)
	return out, next, err
}

// fillChunk is how many orders fill reads the lines and parts of in one
// query: well under either engine's limit of bound parameters.
const fillChunk = 1000

// fill reads the lines and parts of orders, two queries per fillChunk
// orders (no query per order), keeping only the groups in only unless it
// is nil, and the buyer's address of each.
func (s *Service) fill(db *gorm.DB, rows []models.Order, only []uuid.UUID) ([]Order, error) {
	out := make([]Order, len(rows))
	index := map[uuid.UUID]int{}
	for i, r := range rows {
		index[r.ID] = i
		out[i].Order = r
	}
	for start := 0; start < len(rows); start += fillChunk {
		ids := make([]uuid.UUID, 0, fillChunk)
		for _, r := range rows[start:min(start+fillChunk, len(rows))] {
			ids = append(ids, r.ID)
		}
		var lines []models.OrderLine
		if err := db.Where("order_id IN ?", ids).Order("order_id, position").Find(&lines).Error; err != nil {
			return nil, err
		}
		for _, l := range lines {
			out[index[l.OrderID]].Lines = append(out[index[l.OrderID]].Lines, l)
		}
		var parts []models.OrderGroup
		if err := db.Where("order_id IN ?", ids).Order("order_id, group_id").Find(&parts).Error; err != nil {
			return nil, err
		}
		for _, p := range parts {
			out[index[p.OrderID]].Groups = append(out[index[p.OrderID]].Groups, p)
		}
	}
	for i := range out {
		if only != nil {
			out[i] = onlyGroups(out[i], only)
		}
		if err := s.openAddress(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// openAddress reads an order's shipping address: sealed, or in clear when a
// binary older than sealing wrote the order and the data step
// (services/piidata) has not yet sealed it.
func (s *Service) openAddress(o *Order) error {
	text := o.ShippingAddress
	if pii.IsSealed(text) {
		plain, err := s.opt.PII.Open(text)
		if err != nil {
			return fmt.Errorf("order %s: %w", o.ID, err)
		}
		text = plain
	}
	return json.Unmarshal([]byte(text), &o.Address)
}
