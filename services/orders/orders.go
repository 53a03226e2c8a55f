// Package orders takes orders: stock taken atomically for all lines or
// none, prices and fair-trade split inputs frozen on each line, card
// payments through a payments.Provider with the sale booked in the ledger
// exactly once when the payment succeeds, cash on delivery booked when the
// cash is collected, and each group shipping its own part.
package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/page"
	"github.com/karigar/karigar/services/payments"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/pricing"
)

// Options configure a Service.
type Options struct {
	Currency  string
	TTL       time.Duration     // how long a card order waits for its payment; default 30 min
	Payments  payments.Provider // nil: card payments are not offered
	Ledger    *ledger.Service
	CursorKey []byte
	Logger    *slog.Logger
	Now       func() time.Time
	Metrics   services.Metrics // nil: none
	// PII seals the shipping address (a name, an address and a phone
	// number) in the order's row (required).
	PII    *pii.Box
	Market Market // the order cycles (cycles.go); nil: orders inside a cycle are refused
}

// Service is the orders service.
type Service struct {
	db     *gorm.DB
	opt    Options
	cursor page.Codec
	engine engine
}

// engine is what orders do differently on each database, chosen once in
// New: PostgreSQL's in engine_postgres.go, SQLite's in engine_sqlite.go.
type engine struct {
	// queueForStock adds to a stock UPDATE of product (its text and
	// arguments) whatever makes concurrent checkouts of it wait in turn.
	queueForStock func(q string, args []any, product uuid.UUID) (string, []any)
	// claimDue makes the expiry sweep's read of due orders lock them,
	// passing over those another replica's sweep holds.
	claimDue func(q *gorm.DB) *gorm.DB
}

var engines = map[models.Dialect]engine{models.Postgres: postgresEngine, models.SQLite: sqliteEngine}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) || opt.Ledger == nil || len(opt.CursorKey) == 0 || opt.PII == nil {
		return nil, errors.New("orders: a currency, a ledger, a cursor key and a PII box are required")
	}
	if opt.TTL == 0 {
		opt.TTL = 30 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Metrics == nil {
		opt.Metrics = services.NoMetrics{}
	}
	return &Service{db: db, opt: opt, cursor: page.NewCodec(opt.CursorKey), engine: engines[models.DialectOf(db)]}, nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Item is one product and quantity of an order request.
type Item struct {
	ProductID string
	Quantity  int
}

// Address is where an order goes.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Province   string `json:"province,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country"`
	Phone      string `json:"phone"`
}

// CreateInput is a buyer's order. An order inside an order cycle names
// the cycle and one of its pickup or delivery slots, both or neither.
type CreateInput struct {
	Items           []Item
	ShippingAddress Address
	PaymentMethod   string
	OrderCycleID    string
	SlotID          string
}

// Order is an order with its lines and group parts.
type Order struct {
	models.Order
	Lines        []models.OrderLine
	Groups       []models.OrderGroup
	Address      Address
	ClientSecret string // only in the answer to the request that created it
}

var (
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	phoneNumber = regexp.MustCompile(`^\+?[0-9][0-9 -]{6,19}$`)
)

// validate checks an order request, naming every problem. It returns the
// products' ids in request order and, for an order inside a cycle, the
// cycle's and the slot's.
func (s *Service) validate(in *CreateInput) ([]uuid.UUID, *Reservation, error) {
	var fe services.FieldErrors
	ids := make([]uuid.UUID, len(in.Items))
	fe.Check(len(in.Items) == 0 || len(in.Items) > 50, "items", "must hold 1 to 50 products")
	seen := map[uuid.UUID]bool{}
	for i, it := range in.Items {
		f := fmt.Sprintf("items[%d]", i)
		id, err := uuid.Parse(it.ProductID)
		fe.Check(err != nil, f+".product_id", "is not a UUID")
		fe.Check(err == nil && seen[id], f+".product_id", "is in the order twice: give its quantity once")
		fe.Check(it.Quantity < 1 || it.Quantity > 1000, f+".quantity", "must be 1 to 1000")
		seen[id], ids[i] = true, id
	}
	a := &in.ShippingAddress
	for _, p := range []*string{&a.Name, &a.Line1, &a.Line2, &a.City, &a.Province, &a.PostalCode, &a.Country, &a.Phone} {
		*p = strings.TrimSpace(*p)
	}
	a.Country = strings.ToUpper(a.Country)
	fe.Check(!services.TextWithin(a.Name, 1, 200), "shipping_address.name", "must be 1 to 200 characters")
	fe.Check(!services.TextWithin(a.Line1, 1, 200), "shipping_address.line1", "must be 1 to 200 characters")
	fe.Check(!services.TextWithin(a.Line2, 0, 200), "shipping_address.line2", "must be at most 200 characters")
	fe.Check(!services.TextWithin(a.City, 1, 100), "shipping_address.city", "must be 1 to 100 characters")
	fe.Check(!services.TextWithin(a.Province, 0, 100), "shipping_address.province", "must be at most 100 characters")
	fe.Check(!services.TextWithin(a.PostalCode, 0, 20), "shipping_address.postal_code", "must be at most 20 characters")
	fe.Check(!countryCode.MatchString(a.Country), "shipping_address.country", "must be a two-letter ISO 3166 code such as PK")
	fe.Check(!phoneNumber.MatchString(a.Phone), "shipping_address.phone", "must be a phone number such as +92 300 1234567")
	switch in.PaymentMethod {
	case models.PayCashOnDelivery:
	case models.PayByCard:
		fe.Check(s.opt.Payments == nil, "payment_method", "card payments are not available here; use cash_on_delivery")
	default:
		fe.Add("payment_method", "must be card or cash_on_delivery")
	}
	var cycle *Reservation
	if in.OrderCycleID != "" || in.SlotID != "" {
		cycleID, err := uuid.Parse(in.OrderCycleID)
		fe.Check(in.OrderCycleID == "", "order_cycle_id", "is required with slot_id")
		fe.Check(in.OrderCycleID != "" && err != nil, "order_cycle_id", "is not a UUID")
		slotID, serr := uuid.Parse(in.SlotID)
		fe.Check(in.SlotID == "", "slot_id", "is required with order_cycle_id: a pickup or delivery slot of the cycle")
		fe.Check(in.SlotID != "" && serr != nil, "slot_id", "is not a UUID")
		fe.Check(s.opt.Market == nil, "order_cycle_id", "order cycles are not available here")
		cycle = &Reservation{CycleID: cycleID, SlotID: slotID, City: a.City}
	}
	return ids, cycle, fe.Err()
}

// Create takes an order: the stock of every line or none, then, for a card
// order, a payment intent created outside the database transaction (a slow
// provider never holds stock locks). Errors: forbidden (not a buyer),
// validation_failed, insufficient_stock (naming the products; nothing
// taken), unavailable (the provider could not be reached; the order is
// cancelled and its stock back).
func (s *Service) Create(ctx context.Context, actor services.Actor, in CreateInput) (Order, error) {
	o, err := s.create(ctx, actor, in)
	if e, refused := services.AsError(err); refused {
		s.opt.Metrics.OrderRefused(e.Code)
	} else if err == nil {
		s.opt.Metrics.Order(OrderCreated)
	}
	return o, err
}

// OrderCreated is the outcome Metrics.Order counts for a new order; the
// others are the order statuses it ends in (models.OrderPaid, ...).
const OrderCreated = "created"

// effects are what a transaction did, reported to Metrics once it has
// committed; each attempt of a retried transaction starts them afresh.
type effects struct {
	outcomes []string
	booked   []models.LedgerTransaction
}

func (e *effects) book(ts []models.LedgerTransaction, err error) error {
	e.booked = append(e.booked, ts...)
	return err
}

func (s *Service) report(e effects) {
	for _, o := range e.outcomes {
		s.opt.Metrics.Order(o)
	}
	kinds := map[string]int{}
	for _, t := range e.booked {
		kinds[t.Kind]++
	}
	for k, n := range kinds {
		s.opt.Metrics.LedgerBooked(k, n)
	}
}

func (s *Service) create(ctx context.Context, actor services.Actor, in CreateInput) (Order, error) {
	if actor.Role != models.RoleBuyer {
		return Order{}, services.Forbidden("only buyers place orders")
	}
	ids, cycle, err := s.validate(&in)
	if err != nil {
		return Order{}, err
	}
	db := s.db.WithContext(ctx)
	lines, groups, err := s.price(db, in.Items, ids, cycle != nil)
	if err != nil {
		return Order{}, err
	}
	now := s.now()
	addr, err := json.Marshal(in.ShippingAddress)
	if err != nil {
		return Order{}, err
	}
	sealed, err := s.opt.PII.Seal(string(addr))
	if err != nil {
		return Order{}, err
	}
	o := Order{Order: models.Order{ID: models.NewID(), BuyerID: actor.UserID, PaymentMethod: in.PaymentMethod,
		Currency: s.opt.Currency, ShippingAddress: sealed, CreatedAt: now, UpdatedAt: now},
		Lines: lines, Groups: groups, Address: in.ShippingAddress}
	for i := range o.Lines {
		o.Lines[i].OrderID = o.ID
	}
	for i := range o.Groups {
		o.Groups[i].OrderID = o.ID
	}
	settle(&o, nil)
	if cycle != nil {
		o.OrderCycleID, o.CycleSlotID = &cycle.CycleID, &cycle.SlotID
		cycle.Now = now
		cycle.Lines = reservationOf(o, now).Lines
	}
	if in.PaymentMethod == models.PayByCard {
		expires := now.Add(s.opt.TTL)
		o.Status, o.PaymentStatus, o.ExpiresAt = models.OrderPendingPayment, models.PaymentPending, &expires
	} else {
		o.Status, o.PaymentStatus = models.OrderConfirmed, models.PaymentDue
	}

	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		if cycle != nil {
			d, err := s.opt.Market.Check(tx, *cycle)
			if err != nil {
				return err
			}
			settle(&o, &d)
		}
		if err := s.takeStock(tx, o.Lines); err != nil {
			return err
		}
		if err := tx.Create(&o.Order).Error; err != nil {
			return err
		}
		if err := tx.Create(&o.Lines).Error; err != nil {
			return err
		}
		if err := tx.Create(&o.Groups).Error; err != nil {
			return err
		}
		if cycle != nil {
			// Last, just before the commit: the offers' units and the slot's place, the rows
			// every checkout of a market shares, are held for the least time (the lock order).
			return s.opt.Market.Take(tx, *cycle)
		}
		return nil
	})
	if err != nil || in.PaymentMethod != models.PayByCard {
		return o, err
	}
	intent, err := s.opt.Payments.CreateIntent(ctx, o.ID, o.Total, o.Currency)
	if err != nil {
		s.opt.Logger.Error("payment intent not created; cancelling the order", "order_id", o.ID, "error", err.Error())
		if cerr := s.release(context.WithoutCancel(ctx), o.ID, models.OrderCancelled, models.PaymentFailed); cerr != nil {
			s.opt.Logger.Error("order not cancelled: the sweeper will expire it", "order_id", o.ID, "error", cerr.Error())
		}
		return Order{}, services.Unavailable("the card payment could not be started; nothing was charged and no stock is held: try again")
	}
	ref := intent.ID
	if err := db.Model(&models.Order{}).Where("id = ?", o.ID).Updates(map[string]any{"provider_ref": ref}).Error; err != nil {
		return Order{}, err
	}
	o.ProviderRef, o.ClientSecret = &ref, intent.ClientSecret
	return o, nil
}

// price reads the products of an order request and builds its lines (in
// request order) and group parts, with everything a sale will book frozen:
// the price, costs and makers, the group's fund rate and the fees in force.
// A line whose frozen split does not cover its costs is refused here, so
// every order taken can be booked. Errors: validation_failed (no such
// product on sale; fresh food, which keeps a week or less, outside an order
// cycle), product_unavailable (naming the products that are not for sale
// now because their price no longer covers their costs and fees).
func (s *Service) price(db *gorm.DB, items []Item, ids []uuid.UUID, inCycle bool) ([]models.OrderLine, []models.OrderGroup, error) {
	fees, err := catalog.FeesIn(db)
	if err != nil {
		return nil, nil, err
	}
	var products []models.Product
	if err := db.Where("id IN ? AND status IN ?", ids, []string{models.ProductPublished, models.ProductNeedsRepricing}).
		Find(&products).Error; err != nil {
		return nil, nil, err
	}
	byID := map[uuid.UUID]models.Product{}
	var groupIDs []uuid.UUID
	for _, p := range products {
		byID[p.ID] = p
		groupIDs = append(groupIDs, p.GroupID)
	}
	var groups []models.Group
	if err := db.Where("id IN ? AND status = ?", groupIDs, models.GroupVerified).Find(&groups).Error; err != nil {
		return nil, nil, err
	}
	groupByID := map[uuid.UUID]models.Group{}
	for _, g := range groups {
		groupByID[g.ID] = g
	}
	var makers []models.ProductMaker
	if err := db.Where("product_id IN ?", ids).Order("product_id, artisan_id").Find(&makers).Error; err != nil {
		return nil, nil, err
	}
	makersOf := map[uuid.UUID][]ledger.MakerMinutes{}
	for _, m := range makers {
		makersOf[m.ProductID] = append(makersOf[m.ProductID], ledger.MakerMinutes{ArtisanID: m.ArtisanID, Minutes: int64(m.LaborMinutes)})
	}
	var fe services.FieldErrors
	unavailable := map[string]string{}
	var unavailableNames []string
	lines := make([]models.OrderLine, len(items))
	var parts []models.OrderGroup
	partOf := map[uuid.UUID]int{}
	for i, it := range items {
		p, ok := byID[ids[i]]
		g, verified := groupByID[p.GroupID]
		field := fmt.Sprintf("items[%d].product_id", i)
		if !ok || !verified || p.Currency != s.opt.Currency || len(makersOf[p.ID]) == 0 {
			fe.Add(field, "is not a product on sale")
			continue
		}
		if catalog.CycleOnly(p) && !inCycle {
			fe.Add(field, fmt.Sprintf("is fresh food that keeps %d days: it is sold only through an order cycle "+
				"(order it with order_cycle_id and slot_id), never sent by courier", *p.FoodShelfLifeDays))
			continue
		}
		mk, err := json.Marshal(makersOf[p.ID])
		if err != nil {
			return nil, nil, err
		}
		lines[i] = models.OrderLine{Position: i + 1, ProductID: p.ID, GroupID: g.ID, Title: p.Title, UnitPrice: p.Price,
			Quantity: it.Quantity, LineTotal: p.Price * int64(it.Quantity), UnitMaterials: p.CostMaterials,
			UnitPackaging: p.CostPackaging, HourlyWage: p.HourlyWage, PlatformFeeBPS: fees.PlatformFeeBPS,
			ProcessingBPS: fees.ProcessingFeeBPS, CollectiveFundBPS: g.CollectiveFundBPS, Makers: string(mk)}
		// The stored status may lag a fee change made while this request ran: the split of the
		// rates frozen here is what decides, and what the sale will book.
		if _, err := pricing.Compute(frozenInputs(lines[i])); p.Status != models.ProductPublished || err != nil {
			var short *pricing.ShortfallError
			if err != nil && !errors.As(err, &short) {
				return nil, nil, err
			}
			unavailable[field] = "is not for sale now: its price no longer covers its costs and fees"
			unavailableNames = append(unavailableNames, fmt.Sprintf("%q (%s)", p.Title, p.ID))
			continue
		}
		j, ok := partOf[g.ID]
		if !ok {
			j = len(parts)
			partOf[g.ID] = j
			parts = append(parts, models.OrderGroup{GroupID: g.ID, Status: models.PartPending, ShippingFee: g.ShippingFee,
				Amount: g.ShippingFee})
		}
		parts[j].Amount += lines[i].LineTotal
	}
	if err := fe.Err(); err != nil {
		return nil, nil, err
	}
	if len(unavailable) > 0 {
		return nil, nil, productUnavailable(unavailableNames, unavailable)
	}
	return lines, parts, nil
}

// productUnavailable refuses products that are not for sale now.
func productUnavailable(names []string, fields map[string]string) *services.Error {
	e := services.Conflict(services.CodeProductUnavailable,
		"not for sale now, as their prices no longer cover their costs and fees: %s; nothing was ordered", strings.Join(names, ", "))
	e.Fields = fields
	return e
}

// frozenInputs are the split inputs of one unit of a line, as frozen on it;
// its labour is its makers'.
func frozenInputs(l models.OrderLine) pricing.Inputs {
	var makers []ledger.MakerMinutes
	_ = json.Unmarshal([]byte(l.Makers), &makers) // written by price from the same type
	in := pricing.Inputs{Price: l.UnitPrice, Materials: l.UnitMaterials, Packaging: l.UnitPackaging, HourlyWage: l.HourlyWage,
		PlatformFeeBPS: int64(l.PlatformFeeBPS), ProcessingBPS: int64(l.ProcessingBPS), CollectiveFundBPS: int64(l.CollectiveFundBPS)}
	for _, m := range makers {
		in.LaborMinutes += m.Minutes
	}
	return in
}

// takeStock takes every line's quantity, in product id order (the order
// every writer of stock takes its row locks in), each by a conditional
// UPDATE that cannot go below zero. If any line is short, nothing is taken
// (the caller's transaction rolls back) and the error names every short
// product.
func (s *Service) takeStock(tx *gorm.DB, lines []models.OrderLine) error {
	var short, withdrawn []string
	for _, l := range byProduct(lines) {
		q, args := s.engine.queueForStock("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ? AND status = ?",
			[]any{l.Quantity, l.ProductID, l.Quantity, models.ProductPublished}, l.ProductID)
		res := tx.Exec(q, args...)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// Withdrawn (a fee change) since it was priced, or short of stock.
			var status string
			if err := tx.Model(&models.Product{}).Select("status").Where("id = ?", l.ProductID).Scan(&status).Error; err != nil {
				return err
			}
			if status != models.ProductPublished {
				withdrawn = append(withdrawn, fmt.Sprintf("%q (%s)", l.Title, l.ProductID))
				continue
			}
			short = append(short, fmt.Sprintf("%q (%s, %d asked)", l.Title, l.ProductID, l.Quantity))
		}
	}
	if len(withdrawn) > 0 {
		return productUnavailable(withdrawn, nil)
	}
	if len(short) > 0 {
		return services.Conflict(services.CodeInsufficientStock, "not enough stock of %s; nothing was taken", strings.Join(short, ", "))
	}
	return nil
}

// byProduct is lines in product id order: the order every writer of stock
// takes its row locks in.
func byProduct(lines []models.OrderLine) []models.OrderLine {
	sorted := slices.Clone(lines)
	slices.SortStableFunc(sorted, func(a, b models.OrderLine) int { return bytes.Compare(a.ProductID[:], b.ProductID[:]) })
	return sorted
}

// restoreStock gives the lines' quantities back, in product id order (the
// lines may be of several orders).
func restoreStock(tx *gorm.DB, lines []models.OrderLine) error {
	for _, l := range byProduct(lines) {
		if err := tx.Exec("UPDATE products SET stock = stock + ? WHERE id = ?", l.Quantity, l.ProductID).Error; err != nil {
			return err
		}
	}
	return nil
}
