// Package orders takes orders: stock taken atomically for all lines or
// none, prices and fair-trade split inputs frozen on each line, card
// payments through a payments.Provider with the sale booked in the ledger
// exactly once when the payment succeeds, cash on delivery booked when the
// cash is collected, and each group shipping its own part.
package orders

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/idempotency"
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
	// queueForStock is what a checkout's stock UPDATE of products (in id
	// order) adds to its WHERE (text and arguments) to make concurrent
	// checkouts of a product wait in turn.
	queueForStock func(products []uuid.UUID) (string, []any)
	// joinText is the aggregate joining texts with a separator.
	joinText string
	// claimDue makes the expiry sweep's read of due orders lock them,
	// passing over those another replica's sweep holds.
	claimDue func(q *gorm.DB) *gorm.DB
	// writeOrder writes a new order, its lines, its group parts and, when
	// given, the answer to replay, in as few round trips as the engine can.
	writeOrder func(tx *gorm.DB, o *Order, a *idempotency.Answer) error
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
	// Claim, when the request has an Idempotency-Key, is taken first in
	// the transaction that books the order, and Answer's rendering of the
	// order recorded in it last, so that the claim, the order and the
	// answer to replay are one commit. A card order's answer holds its
	// payment's client secret: it is recorded with the payment's reference,
	// after the provider answered.
	Claim  *idempotency.Claim
	Answer func(Order) (idempotency.Response, error)
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
	var claimed claimRefusal
	if errors.As(err, &claimed) {
		return o, err // the key's answer, not the order's: nothing to count
	}
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
		Currency: s.opt.Currency, ShippingAddress: sealed, CreatedAt: now, UpdatedAt: now}, Address: in.ShippingAddress}
	if cycle != nil {
		o.OrderCycleID, o.CycleSlotID = &cycle.CycleID, &cycle.SlotID
		cycle.Now = now
	}
	card := in.PaymentMethod == models.PayByCard
	if card {
		expires := now.Add(s.opt.TTL)
		o.Status, o.PaymentStatus, o.ExpiresAt = models.OrderPendingPayment, models.PaymentPending, &expires
	} else {
		o.Status, o.PaymentStatus = models.OrderConfirmed, models.PaymentDue
	}

	// A refused booking is explained afterwards, by reads that name every
	// problem as they did before the stock was taken in one statement; if
	// they find none (the stock came back meanwhile), the booking runs again.
	for attempt := 1; ; attempt++ {
		err = models.Transact(ctx, db, func(tx *gorm.DB) error { return s.book(tx, &o, in, ids, cycle, !card) })
		if !errors.Is(err, errRefused) {
			break
		}
		if err = s.explain(ctx, db, in.Items, ids, cycle); err != nil {
			return Order{}, err
		}
		if attempt == 3 {
			return Order{}, services.Conflict(services.CodeConflict, "the stock of these products is changing too fast; try again")
		}
	}
	if err != nil || !card {
		return o, err
	}
	intent, err := s.opt.Payments.CreateIntent(ctx, o.ID, o.Total, o.Currency)
	if err != nil {
		s.opt.Logger.Error("payment intent not created; cancelling the order", "order_id", o.ID, "error", err.Error())
		ctx := context.WithoutCancel(ctx)
		if cerr := s.release(ctx, o.ID, models.OrderCancelled, models.PaymentFailed); cerr != nil {
			s.opt.Logger.Error("order not cancelled: the sweeper will expire it", "order_id", o.ID, "error", cerr.Error())
		} else if in.Claim != nil {
			// Nothing is left of the order: a retry under the key places it again.
			if cerr := in.Claim.Abandon(ctx); cerr != nil {
				s.opt.Logger.Error("idempotency key not freed", "order_id", o.ID, "error", cerr.Error())
			}
		}
		return Order{}, services.Unavailable("the card payment could not be started; nothing was charged and no stock is held: try again")
	}
	ref := intent.ID
	o.ProviderRef, o.ClientSecret = &ref, intent.ClientSecret
	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		if err := tx.Model(&models.Order{}).Where("id = ?", o.ID).Updates(map[string]any{"provider_ref": ref}).Error; err != nil {
			return err
		}
		return s.record(tx, in, o)
	})
	if err != nil {
		return Order{}, err
	}
	return o, nil
}

// errRefused is book's refusal of an order whose stock it could not take
// as asked; explain says why.
var errRefused = errors.New("orders: the stock could not be taken as asked")

// claimRefusal is the answer of a claim taken before: a replay, or a
// conflict (the key reused, or its request still running).
type claimRefusal struct{ err error }

func (r claimRefusal) Error() string { return r.err.Error() }
func (r claimRefusal) Unwrap() error { return r.err }

// book takes the claim, the stock of every line (the statement that also
// reads what the lines freeze), writes the order (with answer set, and the
// answer to replay with it), then takes the order cycle's offer units and
// slot place, in tx.
func (s *Service) book(tx *gorm.DB, o *Order, in CreateInput, ids []uuid.UUID, cycle *Reservation, answer bool) error {
	if in.Claim != nil {
		if err := in.Claim.Take(tx); err != nil {
			return claimRefusal{err}
		}
	}
	lines, groups, err := s.takeStock(tx, in.Items, ids, cycle != nil)
	if err != nil {
		return err
	}
	o.Lines, o.Groups = lines, groups
	for i := range o.Lines {
		o.Lines[i].OrderID = o.ID
	}
	for i := range o.Groups {
		o.Groups[i].OrderID = o.ID
	}
	settle(o, nil)
	if cycle != nil {
		// Check only reads: taking the stock before it keeps the lock order.
		cycle.Lines = reserved(o.Lines)
		d, err := s.opt.Market.Check(tx, *cycle)
		if err != nil {
			return err
		}
		settle(o, &d)
	}
	var a *idempotency.Answer
	if answer {
		if a, err = s.answer(in, *o); err != nil {
			return err
		}
	}
	// The answer's row is this request's own, locked since the claim: writing
	// it before the market's rows holds no shared lock longer.
	if err := s.engine.writeOrder(tx, o, a); err != nil {
		return err
	}
	if cycle != nil {
		// Last, just before the commit: the offers' units and the slot's place, the rows
		// every checkout of a market shares, are held for the least time (the lock order).
		if err := s.opt.Market.Take(tx, *cycle); err != nil {
			return err
		}
	}
	return nil
}

// writeEach writes the order, its lines, its group parts and, when given,
// the answer to replay, a statement each.
func writeEach(tx *gorm.DB, o *Order, a *idempotency.Answer) error {
	if err := tx.Create(&o.Order).Error; err != nil {
		return err
	}
	if err := tx.Create(&o.Lines).Error; err != nil {
		return err
	}
	if err := tx.Create(&o.Groups).Error; err != nil {
		return err
	}
	if a == nil {
		return nil
	}
	q, args := a.Update()
	return tx.Exec(q, args...).Error
}

// record records in tx the answer to replay for the request's claim.
func (s *Service) record(tx *gorm.DB, in CreateInput, o Order) error {
	a, err := s.answer(in, o)
	if a == nil || err != nil {
		return err
	}
	q, args := a.Update()
	return tx.Exec(q, args...).Error
}

// answer is the request's answer to replay, as its claim records it; nil
// when the request has no claim.
func (s *Service) answer(in CreateInput, o Order) (*idempotency.Answer, error) {
	if in.Claim == nil || in.Answer == nil {
		return nil, nil
	}
	r, err := in.Answer(o)
	if err != nil {
		return nil, err
	}
	a, err := in.Claim.Answer(r)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// explain names what made book refuse an order, with the errors the checks
// before taking the stock give (price, the order cycle's Check), then the
// products withdrawn or short of stock; nil when it finds nothing wrong.
func (s *Service) explain(ctx context.Context, db *gorm.DB, items []Item, ids []uuid.UUID, cycle *Reservation) error {
	lines, _, err := s.price(db, items, ids, cycle != nil)
	if err != nil {
		return err
	}
	if cycle != nil {
		r := *cycle
		r.Lines = reserved(lines)
		if _, err := s.opt.Market.Check(db, r); err != nil {
			return err
		}
	}
	var rows []models.Product
	if err := db.Select("id", "status", "stock").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return err
	}
	byID := map[uuid.UUID]models.Product{}
	for _, p := range rows {
		byID[p.ID] = p
	}
	var short, withdrawn []string
	for _, l := range byProduct(lines) {
		switch p := byID[l.ProductID]; {
		case p.Status != models.ProductPublished:
			withdrawn = append(withdrawn, fmt.Sprintf("%q (%s)", l.Title, l.ProductID))
		case p.Stock < l.Quantity:
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
	return s.freeze(items, ids, byID, groupByID, makersOf, fees, inCycle)
}

// freeze builds an order request's lines (in request order) and group
// parts from its products, their groups and makers and the fees in force,
// refusing as price says.
func (s *Service) freeze(items []Item, ids []uuid.UUID, byID map[uuid.UUID]models.Product, groupByID map[uuid.UUID]models.Group,
	makersOf map[uuid.UUID][]ledger.MakerMinutes, fees catalog.Fees, inCycle bool) ([]models.OrderLine, []models.OrderGroup, error) {
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

// takeStock takes the stock of every line in one guarded UPDATE, which
// returns what the lines freeze (price, costs, the group's rates, the
// makers, the fees in force), and builds the lines and parts as price
// does. A product not on sale, withdrawn or short of stock is not taken:
// errRefused, for explain to name (the caller's transaction rolls back).
func (s *Service) takeStock(tx *gorm.DB, items []Item, ids []uuid.UUID, inCycle bool) ([]models.OrderLine, []models.OrderGroup, error) {
	q, args := s.stockStatement(items, ids)
	rows, err := scanTaken(tx.Raw(q, args...))
	if err != nil {
		return nil, nil, err
	}
	if len(rows) != len(items) {
		return nil, nil, errRefused
	}
	byID := make(map[uuid.UUID]models.Product, len(rows))
	groupByID := map[uuid.UUID]models.Group{}
	makersOf := make(map[uuid.UUID][]ledger.MakerMinutes, len(rows))
	for _, r := range rows {
		byID[r.ID] = models.Product{ID: r.ID, GroupID: r.GroupID, Title: r.Title, Currency: s.opt.Currency, Price: r.Price,
			CostMaterials: r.CostMaterials, CostPackaging: r.CostPackaging, HourlyWage: r.HourlyWage, Status: models.ProductPublished,
			FoodShelfLifeDays: r.FoodShelfLifeDays}
		groupByID[r.GroupID] = models.Group{ID: r.GroupID, CollectiveFundBPS: r.CollectiveFundBPS, ShippingFee: r.ShippingFee}
		makers, err := parseMakers(r.Makers)
		if err != nil {
			return nil, nil, err
		}
		makersOf[r.ID] = makers
	}
	fees := catalog.Fees{PlatformFeeBPS: rows[0].PlatformFeeBPS, ProcessingFeeBPS: rows[0].ProcessingBPS}
	return s.freeze(items, ids, byID, groupByID, makersOf, fees, inCycle)
}

// takenProduct is a row of stockStatement's RETURNING.
type takenProduct struct {
	ID, GroupID                                      uuid.UUID
	Title                                            string
	Price, CostMaterials, CostPackaging, HourlyWage  int64
	FoodShelfLifeDays                                *int
	CollectiveFundBPS, PlatformFeeBPS, ProcessingBPS int
	ShippingFee                                      int64
	Makers                                           string // artisan_id:labor_minutes, comma separated
}

// scanTaken reads stockStatement's RETURNING by position. gorm's Scan
// matched each column by reflection and rendered the statement with its
// values for its logger, on every checkout: 7% of a checkout's CPU.
func scanTaken(q *gorm.DB) ([]takenProduct, error) {
	rs, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []takenProduct
	for rs.Next() {
		var r takenProduct
		var shelfLife sql.NullInt64
		var fund, platform, processing int64
		if err := rs.Scan(&r.ID, &r.GroupID, &r.Title, &r.Price, &r.CostMaterials, &r.CostPackaging, &r.HourlyWage,
			&shelfLife, &fund, &r.ShippingFee, &platform, &processing, &r.Makers); err != nil {
			return nil, err
		}
		if shelfLife.Valid {
			days := int(shelfLife.Int64)
			r.FoodShelfLifeDays = &days
		}
		r.CollectiveFundBPS, r.PlatformFeeBPS, r.ProcessingBPS = int(fund), int(platform), int(processing)
		out = append(out, r)
	}
	return out, rs.Err()
}

// stockStatement is the UPDATE that takes every line's quantity, unless
// that would take a product below zero, and only of products on sale (published, in
// this currency, of a verified group, with makers); the engine adds what
// makes concurrent checkouts of a product wait in turn. PostgreSQL reads
// the rows by the primary key index, so it locks them in product id order,
// the order every writer of stock takes its row locks in (were a plan to
// differ, a deadlock is detected and Transact retries).
func (s *Service) stockStatement(items []Item, ids []uuid.UUID) (string, []any) {
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	qty := make(map[uuid.UUID]int, len(ids))
	for i, id := range ids {
		qty[id] = items[i].Quantity
	}
	var take strings.Builder
	var takeArgs []any
	take.WriteString("CASE id")
	for _, id := range sorted {
		take.WriteString(" WHEN ? THEN CAST(? AS integer)")
		takeArgs = append(takeArgs, id, qty[id])
	}
	take.WriteString(" END")
	queue, queueArgs := s.engine.queueForStock(sorted)
	q := "UPDATE products SET stock = stock - " + take.String() +
		" WHERE id IN ? AND status = ? AND currency = ? AND stock >= " + take.String() +
		" AND EXISTS (SELECT 1 FROM producer_groups AS g WHERE g.id = products.group_id AND g.status = ?)" +
		" AND EXISTS (SELECT 1 FROM product_makers AS m WHERE m.product_id = products.id)" + queue +
		" RETURNING id, group_id, title, price, cost_materials, cost_packaging, hourly_wage, food_shelf_life_days," +
		" (SELECT collective_fund_bps FROM producer_groups AS g WHERE g.id = products.group_id) AS collective_fund_bps," +
		" (SELECT shipping_fee FROM producer_groups AS g WHERE g.id = products.group_id) AS shipping_fee," +
		" (SELECT platform_fee_bps FROM figure_basis WHERE id = 1) AS platform_fee_bps," +
		" (SELECT processing_bps FROM figure_basis WHERE id = 1) AS processing_bps," +
		" (SELECT " + s.engine.joinText + "(CAST(m.artisan_id AS text) || ':' || CAST(m.labor_minutes AS text), ',')" +
		" FROM product_makers AS m WHERE m.product_id = products.id) AS makers"
	args := append(takeArgs, sorted, models.ProductPublished, s.opt.Currency)
	args = append(args, takeArgs...)
	args = append(args, models.GroupVerified)
	return q, append(args, queueArgs...)
}

// parseMakers reads stockStatement's makers, in artisan id order (the
// order price reads them in).
func parseMakers(s string) ([]ledger.MakerMinutes, error) {
	var ms []ledger.MakerMinutes
	for _, part := range strings.Split(s, ",") {
		id, minutes, _ := strings.Cut(part, ":")
		artisan, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("orders: makers %q: %w", s, err)
		}
		n, err := strconv.ParseInt(minutes, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("orders: makers %q: %w", s, err)
		}
		ms = append(ms, ledger.MakerMinutes{ArtisanID: artisan, Minutes: n})
	}
	slices.SortFunc(ms, func(a, b ledger.MakerMinutes) int { return bytes.Compare(a.ArtisanID[:], b.ArtisanID[:]) })
	return ms, nil
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
