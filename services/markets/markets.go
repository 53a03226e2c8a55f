// Package markets runs order cycles, the Sunday markets of home-made food
// (contract section 13): a window in which buyers order from the offers of
// several groups, collected at a pickup point or delivered in a zone, in
// slots that each take a limited number of orders. A cycle is open from
// its opens_at until its closes_at by the clock alone: nothing flips it.
// Checkout inside a cycle is the orders service's, which asks this package
// (Checkout, an orders.Market) to take the slot's place and the offers'
// quantities in its own transaction. After a cycle closes its groups read
// what to make (Production), its coordinator what to hand to whom
// (Packing), and the coordinator records each handover, which books a cash
// sale as a delivery does (orders.HandOver).
package markets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/page"
)

// Pakistan is the time zone the cycles' windows and slots are read in.
var Pakistan = models.Karachi

// Statuses of a cycle, computed from its window and the clock.
const (
	Upcoming = "upcoming"
	Open     = "open"
	Closed   = "closed"
)

// StatusAt is c's status at now: upcoming before opens_at, open until
// closes_at, closed from then on.
func StatusAt(c models.OrderCycle, now time.Time) string {
	switch {
	case now.Before(c.OpensAt):
		return Upcoming
	case now.Before(c.ClosesAt):
		return Open
	}
	return Closed
}

// Options configure a Service.
type Options struct {
	Currency  string
	CursorKey []byte
	Orders    *orders.Service // checkout, the cycle's orders and their handover
	Now       func() time.Time
	Logger    *slog.Logger
}

// Service is the order cycles service.
type Service struct {
	db     *gorm.DB
	opt    Options
	cursor page.Codec
}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) || len(opt.CursorKey) == 0 || opt.Orders == nil {
		return nil, errors.New("markets: a currency, a cursor key and the orders service are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{db: db, opt: opt, cursor: page.NewCodec(opt.CursorKey)}, nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Place kinds.
const (
	PickupPoint  = "pickup_point"
	DeliveryZone = "delivery_zone"
)

// Place is a pickup point or a delivery zone of a cycle, with its slots in
// time order.
type Place struct {
	Kind      string
	ID        uuid.UUID
	Name      string
	Address   string   // a pickup point's
	District  string   // a pickup point's
	Districts []string // a delivery zone's
	Fee       int64    // a delivery zone's, per order
	Slots     []models.CycleSlot
}

// Offer is a group's product on sale in a cycle.
type Offer struct {
	models.CycleOffer
	Product   models.Product
	GroupName string
}

// Left is how many more units the offer may sell, or nil with no cap.
func (o Offer) Left() *int {
	if o.MaxQuantity == nil {
		return nil
	}
	left := max(*o.MaxQuantity-o.Sold, 0)
	return &left
}

// Available reports whether the offer can be ordered now: its product on
// sale and in stock, and its cap not reached.
func (o Offer) Available() bool {
	left := o.Left()
	return o.Product.Status == models.ProductPublished && o.Product.Stock > 0 && (left == nil || *left > 0)
}

// Cycle is an order cycle with its status at the time it was read, its
// coordinating group, places, slots and offers.
type Cycle struct {
	models.OrderCycle
	Status        string
	Coordinator   models.Group
	PickupPoints  []Place
	DeliveryZones []Place
	Offers        []Offer // by group name, then product title
}

// Places is the cycle's pickup points, then its delivery zones.
func (c Cycle) Places() []Place { return append(slices.Clone(c.PickupPoints), c.DeliveryZones...) }

// Get returns a cycle to anyone. Errors: not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Cycle, error) {
	db := s.db.WithContext(ctx)
	var rows []models.OrderCycle
	if err := db.Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return Cycle{}, err
	}
	if len(rows) == 0 {
		return Cycle{}, services.NotFound("order cycle")
	}
	cs, err := s.load(db, rows)
	if err != nil {
		return Cycle{}, err
	}
	return cs[0], nil
}

// List is a page of cycles for anyone, filtered by their status now
// (status is "", upcoming, open or closed): upcoming ones by opening, the
// soonest first; open ones by closing, the soonest first; closed ones by
// closing, the latest first; all of them newest opening first. Errors:
// bad_request (an unknown status, a cursor of another query).
func (s *Service) List(ctx context.Context, status, cursor string, limit int) ([]Cycle, string, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	q := db.Model(&models.OrderCycle{})
	var key, order, after string
	switch status {
	case Upcoming:
		q, key, order, after = q.Where("opens_at > ?", now), "opens_at", "opens_at, id", ">"
	case Open:
		q, key, order, after = q.Where("opens_at <= ? AND closes_at > ?", now, now), "closes_at", "closes_at, id", ">"
	case Closed:
		q, key, order, after = q.Where("closes_at <= ?", now), "closes_at", "closes_at DESC, id DESC", "<"
	case "":
		key, order, after = "opens_at", "opens_at DESC, id DESC", "<"
	default:
		return nil, "", services.BadRequest("status must be upcoming, open or closed")
	}
	scope := "order-cycles|" + status
	if cursor != "" {
		var t time.Time
		var id uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &t, &id); err != nil {
			return nil, "", err
		}
		q = q.Where(fmt.Sprintf("(%s, id) %s (?, ?)", key, after), t.UTC(), id)
	}
	var rows []models.OrderCycle
	if err := q.Order(order).Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		t := last.OpensAt
		if key == "closes_at" {
			t = last.ClosesAt
		}
		next = s.cursor.Encode(scope, t.UTC(), last.ID)
	}
	cs, err := s.load(db, rows)
	return cs, next, err
}

// load reads the coordinators, places, slots and offers of cycles, one
// query each for all of them.
func (s *Service) load(db *gorm.DB, rows []models.OrderCycle) ([]Cycle, error) {
	out := make([]Cycle, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	now := s.now()
	ids := make([]uuid.UUID, len(rows))
	groupIDs := make([]uuid.UUID, len(rows))
	at := map[uuid.UUID]int{}
	for i, c := range rows {
		out[i] = Cycle{OrderCycle: c, Status: StatusAt(c, now)}
		ids[i], groupIDs[i], at[c.ID] = c.ID, c.CoordinatorGroupID, i
	}
	var coordinators []models.Group
	if err := db.Where("id IN ?", groupIDs).Find(&coordinators).Error; err != nil {
		return nil, err
	}
	for i := range out {
		for _, g := range coordinators {
			if g.ID == out[i].CoordinatorGroupID {
				out[i].Coordinator = g
			}
		}
	}
	var slots []models.CycleSlot
	if err := db.Where("cycle_id IN ?", ids).Order("starts_at, id").Find(&slots).Error; err != nil {
		return nil, err
	}
	slotsOf := map[uuid.UUID][]models.CycleSlot{}
	for _, sl := range slots {
		place := sl.PickupPointID
		if place == nil {
			place = sl.DeliveryZoneID
		}
		slotsOf[*place] = append(slotsOf[*place], sl)
	}
	var points []models.PickupPoint
	if err := db.Where("cycle_id IN ?", ids).Order("cycle_id, position").Find(&points).Error; err != nil {
		return nil, err
	}
	for _, p := range points {
		c := &out[at[p.CycleID]]
		c.PickupPoints = append(c.PickupPoints, Place{Kind: PickupPoint, ID: p.ID, Name: p.Name, Address: p.Address,
			District: p.District, Slots: slotsOf[p.ID]})
	}
	var zones []models.DeliveryZone
	if err := db.Where("cycle_id IN ?", ids).Order("cycle_id, position").Find(&zones).Error; err != nil {
		return nil, err
	}
	for _, z := range zones {
		c := &out[at[z.CycleID]]
		c.DeliveryZones = append(c.DeliveryZones, Place{Kind: DeliveryZone, ID: z.ID, Name: z.Name, Districts: z.Districts,
			Fee: z.Fee, Slots: slotsOf[z.ID]})
	}
	offers, err := offersOf(db, ids)
	if err != nil {
		return nil, err
	}
	for _, o := range offers {
		c := &out[at[o.CycleID]]
		c.Offers = append(c.Offers, o)
	}
	return out, nil
}

// offersOf reads the offers of cycles with their products and groups' names,
// by group name (then id), then product title.
func offersOf(db *gorm.DB, cycleIDs []uuid.UUID) ([]Offer, error) {
	var offers []models.CycleOffer
	if err := db.Where("cycle_id IN ?", cycleIDs).Find(&offers).Error; err != nil || len(offers) == 0 {
		return nil, err
	}
	productIDs := make([]uuid.UUID, len(offers))
	groupIDs := make([]uuid.UUID, len(offers))
	for i, o := range offers {
		productIDs[i], groupIDs[i] = o.ProductID, o.GroupID
	}
	var products []models.Product
	if err := db.Where("id IN ?", productIDs).Find(&products).Error; err != nil {
		return nil, err
	}
	var gs []models.Group
	if err := db.Where("id IN ?", groupIDs).Find(&gs).Error; err != nil {
		return nil, err
	}
	productByID := map[uuid.UUID]models.Product{}
	for _, p := range products {
		productByID[p.ID] = p
	}
	groupName := map[uuid.UUID]string{}
	for _, g := range gs {
		groupName[g.ID] = g.Name
	}
	out := make([]Offer, len(offers))
	for i, o := range offers {
		out[i] = Offer{CycleOffer: o, Product: productByID[o.ProductID], GroupName: groupName[o.GroupID]}
	}
	slices.SortStableFunc(out, func(a, b Offer) int {
		return cmp.Or(strings.Compare(a.GroupName, b.GroupName), strings.Compare(a.GroupID.String(), b.GroupID.String()),
			strings.Compare(a.Product.Title, b.Product.Title), strings.Compare(a.ProductID.String(), b.ProductID.String()))
	})
	return out, nil
}

// coordinates returns nil if actor may act as the cycle's coordinator and
// see its buyers (groups.SeesBuyers: the coordinating group's managers,
// admins); forbidden otherwise.
func coordinates(db *gorm.DB, actor services.Actor, c models.OrderCycle, what string) error {
	ok, err := groups.SeesBuyers(db, actor, c.CoordinatorGroupID)
	if err != nil {
		return err
	}
	if !ok {
		return services.Forbidden("only the order cycle's coordinator (a manager of its coordinating group) or an admin " + what)
	}
	return nil
}

// closedAt refuses what must wait for the cycle to close.
func closedAt(c models.OrderCycle, now time.Time, what string) error {
	if now.Before(c.ClosesAt) {
		return services.Conflict(services.CodeInvalidState, "the order cycle takes orders until %s (Pakistan time): %s",
			Local(c.ClosesAt), what)
	}
	return nil
}

// Local writes t as people in Pakistan read it, e.g. "Sat 7 Jun 2025 18:00".
func Local(t time.Time) string { return t.In(Pakistan).Format("Mon 2 Jan 2006 15:04") }

// cycleRow reads one cycle. Errors: not_found.
func cycleRow(db *gorm.DB, id uuid.UUID) (models.OrderCycle, error) {
	var c models.OrderCycle
	if err := db.Where("id = ?", id).Limit(1).Find(&c).Error; err != nil {
		return c, err
	}
	if c.ID == uuid.Nil {
		return c, services.NotFound("order cycle")
	}
	return c, nil
}
