package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/markets"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/page"
)

// Order cycles (contract section 13). Every time is given in UTC and again
// in Pakistan's time (the *_local fields, +05:00), which is how the
// coordinators and buyers read them.

type slotRequest struct {
	StartsAt  *time.Time `json:"starts_at"`
	EndsAt    *time.Time `json:"ends_at"`
	MaxOrders *int       `json:"max_orders"`
}

type pickupPointRequest struct {
	Name     string        `json:"name"`
	Address  string        `json:"address"`
	District string        `json:"district"`
	Slots    []slotRequest `json:"slots"`
}

type deliveryZoneRequest struct {
	Name      string        `json:"name"`
	Districts []string      `json:"districts"`
	Fee       *models.Money `json:"fee"`
	Slots     []slotRequest `json:"slots"`
}

type cycleRequest struct {
	Name               string                `json:"name"`
	CoordinatorGroupID string                `json:"coordinator_group_id"`
	OpensAt            *time.Time            `json:"opens_at"`
	ClosesAt           *time.Time            `json:"closes_at"`
	PickupPoints       []pickupPointRequest  `json:"pickup_points"`
	DeliveryZones      []deliveryZoneRequest `json:"delivery_zones"`
}

func slotInputs(in []slotRequest) []markets.SlotInput {
	out := make([]markets.SlotInput, len(in))
	for i, s := range in {
		out[i] = markets.SlotInput{StartsAt: s.StartsAt, EndsAt: s.EndsAt, MaxOrders: s.MaxOrders}
	}
	return out
}

func (r cycleRequest) toService() markets.CycleInput {
	in := markets.CycleInput{Name: r.Name, CoordinatorGroupID: r.CoordinatorGroupID, OpensAt: r.OpensAt, ClosesAt: r.ClosesAt}
	for _, p := range r.PickupPoints {
		in.PickupPoints = append(in.PickupPoints, markets.PickupInput{Name: p.Name, Address: p.Address, District: p.District,
			Slots: slotInputs(p.Slots)})
	}
	for _, z := range r.DeliveryZones {
		in.DeliveryZones = append(in.DeliveryZones, markets.ZoneInput{Name: z.Name, Districts: z.Districts, Fee: z.Fee,
			Slots: slotInputs(z.Slots)})
	}
	return in
}

type slotResponse struct {
	ID            string    `json:"id"`
	StartsAt      time.Time `json:"starts_at"`
	EndsAt        time.Time `json:"ends_at"`
	StartsAtLocal time.Time `json:"starts_at_local"`
	EndsAtLocal   time.Time `json:"ends_at_local"`
	MaxOrders     int       `json:"max_orders"`
	OrdersLeft    int       `json:"orders_left"`
}

type pickupPointResponse struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Address  string         `json:"address"`
	District string         `json:"district"`
	Slots    []slotResponse `json:"slots"`
}

type deliveryZoneResponse struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Districts []string       `json:"districts"`
	Fee       models.Money   `json:"fee"`
	Slots     []slotResponse `json:"slots"`
}

type offerResponse struct {
	ProductID    string        `json:"product_id"`
	GroupID      string        `json:"group_id"`
	GroupName    string        `json:"group_name"`
	Title        string        `json:"title"`
	Category     string        `json:"category"`
	Price        models.Money  `json:"price"`
	MaxQuantity  *int          `json:"max_quantity"`
	QuantityLeft *int          `json:"quantity_left"` // of max_quantity; null with no cap
	Available    bool          `json:"available"`
	Food         *foodResponse `json:"food"`
}

type cycleResponse struct {
	ID            string                 `json:"id"`
	Name          string                 `json:"name"`
	Status        string                 `json:"status"`
	TimeZone      string                 `json:"time_zone"`
	Coordinator   groupSummary           `json:"coordinator"`
	OpensAt       time.Time              `json:"opens_at"`
	ClosesAt      time.Time              `json:"closes_at"`
	OpensAtLocal  time.Time              `json:"opens_at_local"`
	ClosesAtLocal time.Time              `json:"closes_at_local"`
	PickupPoints  []pickupPointResponse  `json:"pickup_points"`
	DeliveryZones []deliveryZoneResponse `json:"delivery_zones"`
	Offers        []offerResponse        `json:"offers"`
	CreatedAt     time.Time              `json:"created_at"`
}

// local is t in Pakistan's time.
func local(t time.Time) time.Time { return t.In(markets.Pakistan) }

func toSlot(s models.CycleSlot) slotResponse {
	return slotResponse{ID: s.ID.String(), StartsAt: s.StartsAt.UTC(), EndsAt: s.EndsAt.UTC(), StartsAtLocal: local(s.StartsAt),
		EndsAtLocal: local(s.EndsAt), MaxOrders: s.MaxOrders, OrdersLeft: max(s.MaxOrders-s.Taken, 0)}
}

func toSlots(ss []models.CycleSlot) []slotResponse {
	out := make([]slotResponse, len(ss))
	for i, s := range ss {
		out[i] = toSlot(s)
	}
	return out
}

func toOffer(o markets.Offer) offerResponse {
	return offerResponse{ProductID: o.ProductID.String(), GroupID: o.GroupID.String(), GroupName: o.GroupName, Title: o.Product.Title,
		Category: o.Product.Category, Price: models.NewMoney(o.Product.Price, o.Product.Currency), MaxQuantity: o.MaxQuantity,
		QuantityLeft: o.Left(), Available: o.Available(), Food: toFood(o.Product)}
}

func toCycle(c markets.Cycle) cycleResponse {
	g := c.Coordinator
	out := cycleResponse{ID: c.ID.String(), Name: c.Name, Status: c.Status, TimeZone: markets.Pakistan.String(),
		Coordinator:  groupSummary{ID: g.ID.String(), Name: g.Name, District: g.District, Province: string(g.Province)},
		PickupPoints: []pickupPointResponse{}, DeliveryZones: []deliveryZoneResponse{}, Offers: []offerResponse{},
		CreatedAt: c.CreatedAt.UTC()}
	out.OpensAt, out.ClosesAt, out.OpensAtLocal, out.ClosesAtLocal = c.OpensAt.UTC(), c.ClosesAt.UTC(), local(c.OpensAt), local(c.ClosesAt)
	for _, p := range c.PickupPoints {
		out.PickupPoints = append(out.PickupPoints, pickupPointResponse{ID: p.ID.String(), Name: p.Name, Address: p.Address,
			District: p.District, Slots: toSlots(p.Slots)})
	}
	for _, z := range c.DeliveryZones {
		out.DeliveryZones = append(out.DeliveryZones, deliveryZoneResponse{ID: z.ID.String(), Name: z.Name, Districts: z.Districts,
			Fee: models.NewMoney(z.Fee, c.Currency), Slots: toSlots(z.Slots)})
	}
	for _, o := range c.Offers {
		out.Offers = append(out.Offers, toOffer(o))
	}
	return out
}

func (s *Server) createCycle(c *gin.Context) {
	var req cycleRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	cy, err := s.markets.Create(c.Request.Context(), actorOf(c), req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, toCycle(cy), "order-cycles", cy.ID.String())
}

func (s *Server) listCycles(c *gin.Context) {
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	cs, next, err := s.markets.List(c.Request.Context(), c.Query("status"), c.Query("cursor"), limit)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(cs, next, toCycle))
}

func (s *Server) getCycle(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	cy, err := s.markets.Get(c.Request.Context(), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toCycle(cy))
}

type offerRequest struct {
	ProductID   string `json:"product_id"`
	MaxQuantity *int   `json:"max_quantity"`
}

func (s *Server) createOffer(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req offerRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	o, err := s.markets.Offer(c.Request.Context(), actorOf(c), id, markets.OfferInput{ProductID: req.ProductID, MaxQuantity: req.MaxQuantity})
	if err != nil {
		writeError(c, err)
		return
	}
	// An offer is read as part of its cycle.
	created(c, toOffer(o), "order-cycles", id.String())
}

type handoverRequest struct {
	CashCollected *models.Money `json:"cash_collected"`
}

func (s *Server) handOver(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	orderID, err := uuid.Parse(c.Param("order_id"))
	if err != nil {
		writeError(c, services.BadRequest("order_id %q is not a UUID", c.Param("order_id")))
		return
	}
	var req handoverRequest
	if err := bindOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	o, err := s.markets.HandOver(c.Request.Context(), actorOf(c), id, orderID, req.CashCollected)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

// The lists of a closed cycle, as JSON or (?format=csv, or Accept:
// text/csv) as one CSV table with a row per line.

type cycleHeading struct {
	OrderCycleID  string    `json:"order_cycle_id"`
	Name          string    `json:"name"`
	TimeZone      string    `json:"time_zone"`
	ClosesAt      time.Time `json:"closes_at"`
	ClosesAtLocal time.Time `json:"closes_at_local"`
}

func headingOf(c markets.Cycle) cycleHeading {
	return cycleHeading{OrderCycleID: c.ID.String(), Name: c.Name, TimeZone: markets.Pakistan.String(), ClosesAt: c.ClosesAt.UTC(),
		ClosesAtLocal: local(c.ClosesAt)}
}

type placeRef struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

type productionSlot struct {
	SlotID        string    `json:"slot_id"`
	Place         placeRef  `json:"place"`
	StartsAt      time.Time `json:"starts_at"`
	StartsAtLocal time.Time `json:"starts_at_local"`
	Quantity      int       `json:"quantity"`
}

type productionProduct struct {
	ProductID string           `json:"product_id"`
	Title     string           `json:"title"`
	Quantity  int              `json:"quantity"`
	Slots     []productionSlot `json:"slots"`
}

type productionGroup struct {
	GroupID   string              `json:"group_id"`
	GroupName string              `json:"group_name"`
	Products  []productionProduct `json:"products"`
}

type productionResponse struct {
	cycleHeading
	Groups []productionGroup `json:"groups"`
}

func toProduction(p markets.Production) productionResponse {
	out := productionResponse{cycleHeading: headingOf(p.Cycle), Groups: []productionGroup{}}
	for _, g := range p.Groups {
		pg := productionGroup{GroupID: g.GroupID.String(), GroupName: g.GroupName, Products: []productionProduct{}}
		for _, pr := range g.Products {
			pp := productionProduct{ProductID: pr.ProductID.String(), Title: pr.Title, Quantity: pr.Quantity, Slots: []productionSlot{}}
			for _, sq := range pr.Slots {
				pp.Slots = append(pp.Slots, productionSlot{SlotID: sq.Slot.ID.String(),
					Place:    placeRef{Kind: sq.Slot.Place.Kind, ID: sq.Slot.Place.ID.String(), Name: sq.Slot.Place.Name},
					StartsAt: sq.Slot.StartsAt.UTC(), StartsAtLocal: local(sq.Slot.StartsAt), Quantity: sq.Quantity})
			}
			pg.Products = append(pg.Products, pp)
		}
		out.Groups = append(out.Groups, pg)
	}
	return out
}

// productionCSV is a row per group, product and slot; a product with
// nothing ordered has one row with an empty slot and a quantity of 0.
func productionCSV(p productionResponse) [][]string {
	rows := [][]string{{"group_id", "group", "product_id", "product", "slot_id", "place_kind", "place", "slot_starts_at_local",
		"quantity"}}
	for _, g := range p.Groups {
		for _, pr := range g.Products {
			if len(pr.Slots) == 0 {
				rows = append(rows, []string{g.GroupID, g.GroupName, pr.ProductID, pr.Title, "", "", "", "", "0"})
			}
			for _, sl := range pr.Slots {
				rows = append(rows, []string{g.GroupID, g.GroupName, pr.ProductID, pr.Title, sl.SlotID, sl.Place.Kind, sl.Place.Name,
					sl.StartsAtLocal.Format(time.RFC3339), strconv.Itoa(sl.Quantity)})
			}
		}
	}
	return rows
}

func (s *Server) cycleProduction(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	asCSV, err := wantsCSV(c)
	if err != nil {
		writeError(c, err)
		return
	}
	p, err := s.markets.Production(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	out := toProduction(p)
	if asCSV {
		writeCSV(c, "production-"+out.OrderCycleID+".csv", [][][]string{productionCSV(out)})
		return
	}
	c.JSON(http.StatusOK, out)
}

type buyerResponse struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

type packingItem struct {
	ProductID string `json:"product_id"`
	GroupID   string `json:"group_id"`
	Title     string `json:"title"`
	Quantity  int    `json:"quantity"`
}

type packingOrder struct {
	OrderID         string          `json:"order_id"`
	Status          string          `json:"status"`
	Buyer           buyerResponse   `json:"buyer"`
	DeliveryAddress *orders.Address `json:"delivery_address"` // a delivery zone's orders only
	Items           []packingItem   `json:"items"`
	Total           models.Money    `json:"total"`
	Payment         orderPayment    `json:"payment"`
	HandedOverAt    *time.Time      `json:"handed_over_at"`
}

type packingSlot struct {
	slotResponse
	Orders []packingOrder `json:"orders"`
}

type packingPlace struct {
	Kind      string        `json:"kind"`
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Address   *string       `json:"address"`  // a pickup point's
	District  *string       `json:"district"` // a pickup point's
	Districts []string      `json:"districts"`
	Fee       *models.Money `json:"fee"` // a delivery zone's
	Slots     []packingSlot `json:"slots"`
}

type packingResponse struct {
	cycleHeading
	Places []packingPlace `json:"places"`
}

func toPacking(p markets.Packing) packingResponse {
	out := packingResponse{cycleHeading: headingOf(p.Cycle), Places: []packingPlace{}}
	for _, pl := range p.Places {
		place := pl.Place
		pp := packingPlace{Kind: place.Kind, ID: place.ID.String(), Name: place.Name, Districts: []string{}, Slots: []packingSlot{}}
		if place.Kind == markets.PickupPoint {
			pp.Address, pp.District = &place.Address, &place.District
		} else {
			fee := models.NewMoney(place.Fee, p.Cycle.Currency)
			pp.Districts, pp.Fee = place.Districts, &fee
		}
		for _, sl := range pl.Slots {
			ps := packingSlot{slotResponse: toSlot(sl.Slot), Orders: []packingOrder{}}
			for _, o := range sl.Orders {
				po := packingOrder{OrderID: o.ID.String(), Status: o.Status, Buyer: buyerResponse{Name: o.Address.Name, Phone: o.Address.Phone},
					Items: []packingItem{}, Total: models.NewMoney(o.Total, o.Currency),
					Payment: orderPayment{Method: o.PaymentMethod, Status: o.PaymentStatus}}
				if place.Kind == markets.DeliveryZone {
					addr := o.Address
					po.DeliveryAddress = &addr
				}
				for _, l := range o.Lines {
					po.Items = append(po.Items, packingItem{ProductID: l.ProductID.String(), GroupID: l.GroupID.String(), Title: l.Title,
						Quantity: l.Quantity})
				}
				for _, g := range o.Groups {
					if g.DeliveredAt != nil {
						po.HandedOverAt = utc(g.DeliveredAt)
					}
				}
				ps.Orders = append(ps.Orders, po)
			}
			pp.Slots = append(pp.Slots, ps)
		}
		out.Places = append(out.Places, pp)
	}
	return out
}

// packingCSV is a row per order line, with its place, slot, order and
// buyer.
func packingCSV(p packingResponse) [][]string {
	rows := [][]string{{"place_kind", "place", "slot_id", "slot_starts_at_local", "slot_ends_at_local", "order_id", "order_status",
		"buyer_name", "buyer_phone", "delivery_address", "product_id", "product", "group_id", "quantity", "order_total_rs",
		"payment_method", "payment_status"}}
	for _, pl := range p.Places {
		for _, sl := range pl.Slots {
			for _, o := range sl.Orders {
				address := ""
				if a := o.DeliveryAddress; a != nil {
					address = strings.Join(nonEmpty(a.Line1, a.Line2, a.City, a.Province, a.PostalCode, a.Country), ", ")
				}
				for _, it := range o.Items {
					rows = append(rows, []string{pl.Kind, pl.Name, sl.ID, sl.StartsAtLocal.Format(time.RFC3339),
						sl.EndsAtLocal.Format(time.RFC3339), o.OrderID, o.Status, o.Buyer.Name, o.Buyer.Phone, address, it.ProductID,
						it.Title, it.GroupID, strconv.Itoa(it.Quantity), csvRupees(o.Total.Amount), o.Payment.Method, o.Payment.Status})
				}
			}
		}
	}
	return rows
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) cyclePacking(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	asCSV, err := wantsCSV(c)
	if err != nil {
		writeError(c, err)
		return
	}
	p, err := s.markets.Packing(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	out := toPacking(p)
	if asCSV {
		writeCSV(c, "packing-"+out.OrderCycleID+".csv", [][][]string{packingCSV(out)})
		return
	}
	c.JSON(http.StatusOK, out)
}
