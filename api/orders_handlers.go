package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/page"
)

type orderItemRequest struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

type orderRequest struct {
	Items           []orderItemRequest `json:"items"`
	ShippingAddress orders.Address     `json:"shipping_address"`
	PaymentMethod   string             `json:"payment_method"`
	OrderCycleID    string             `json:"order_cycle_id"`
	SlotID          string             `json:"slot_id"`
}

type orderItem struct {
	ProductID string       `json:"product_id"`
	GroupID   string       `json:"group_id"`
	Title     string       `json:"title"`
	UnitPrice models.Money `json:"unit_price"`
	Quantity  int          `json:"quantity"`
	LineTotal models.Money `json:"line_total"`
}

type orderPart struct {
	GroupID        string       `json:"group_id"`
	Status         string       `json:"status"`
	Amount         models.Money `json:"amount"`
	ShippingFee    models.Money `json:"shipping_fee"`
	Carrier        *string      `json:"carrier"`
	TrackingNumber *string      `json:"tracking_number"`
	ShippedAt      *time.Time   `json:"shipped_at"`
	DeliveredAt    *time.Time   `json:"delivered_at"`
}

type orderPayment struct {
	Method       string  `json:"method"`
	Status       string  `json:"status"`
	ProviderRef  *string `json:"provider_ref,omitempty"`
	ClientSecret string  `json:"client_secret,omitempty"`
}

type orderResponse struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	Items           []orderItem    `json:"items"`
	Groups          []orderPart    `json:"groups"`
	Subtotal        models.Money   `json:"subtotal"`
	Shipping        models.Money   `json:"shipping"`
	Total           models.Money   `json:"total"`
	Payment         orderPayment   `json:"payment"`
	ShippingAddress orders.Address `json:"shipping_address"`
	Note            string         `json:"note,omitempty"`
	ExpiresAt       *time.Time     `json:"expires_at,omitempty"`
	OrderCycleID    *string        `json:"order_cycle_id"` // null outside an order cycle
	SlotID          *string        `json:"slot_id"`
	CreatedAt       time.Time      `json:"created_at"`
}

func toOrder(o orders.Order) orderResponse {
	m := func(a int64) models.Money { return models.NewMoney(a, o.Currency) }
	out := orderResponse{ID: o.ID.String(), Status: o.Status, Items: make([]orderItem, len(o.Lines)),
		Groups: make([]orderPart, len(o.Groups)), Subtotal: m(o.Subtotal), Shipping: m(o.Shipping), Total: m(o.Total),
		Payment:         orderPayment{Method: o.PaymentMethod, Status: o.PaymentStatus, ProviderRef: o.ProviderRef, ClientSecret: o.ClientSecret},
		ShippingAddress: o.Address, Note: o.Note, ExpiresAt: utc(o.ExpiresAt), CreatedAt: o.CreatedAt.UTC()}
	if o.Status != models.OrderPendingPayment {
		out.ExpiresAt = nil
	}
	if o.OrderCycleID != nil && o.CycleSlotID != nil {
		cycle, slot := o.OrderCycleID.String(), o.CycleSlotID.String()
		out.OrderCycleID, out.SlotID = &cycle, &slot
	}
	for i, l := range o.Lines {
		out.Items[i] = orderItem{ProductID: l.ProductID.String(), GroupID: l.GroupID.String(), Title: l.Title,
			UnitPrice: m(l.UnitPrice), Quantity: l.Quantity, LineTotal: m(l.LineTotal)}
	}
	for i, g := range o.Groups {
		out.Groups[i] = orderPart{GroupID: g.GroupID.String(), Status: g.Status, Amount: m(g.Amount), ShippingFee: m(g.ShippingFee),
			Carrier: g.Carrier, TrackingNumber: g.TrackingNumber, ShippedAt: utc(g.ShippedAt), DeliveredAt: utc(g.DeliveredAt)}
	}
	return out
}

func (s *Server) createOrder(c *gin.Context) {
	var req orderRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	in := orders.CreateInput{ShippingAddress: req.ShippingAddress, PaymentMethod: req.PaymentMethod,
		OrderCycleID: req.OrderCycleID, SlotID: req.SlotID}
	for _, it := range req.Items {
		in.Items = append(in.Items, orders.Item{ProductID: it.ProductID, Quantity: it.Quantity})
	}
	// The answer is rendered once, where the service records it for replay.
	var answer idempotency.Response
	in.Claim, in.Answer = claimOf(c), func(o orders.Order) (idempotency.Response, error) {
		var err error
		answer, err = answerFor(http.StatusCreated, toOrder(o), "orders", o.ID.String())
		return answer, err
	}
	o, err := s.orders.Create(c.Request.Context(), actorOf(c), in)
	if err != nil {
		writeError(c, err)
		return
	}
	if answer.Status == 0 {
		if answer, err = in.Answer(o); err != nil {
			writeError(c, err)
			return
		}
	}
	writeAnswer(c, answer)
}

func (s *Server) listOrders(c *gin.Context) {
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	os, next, err := s.orders.List(c.Request.Context(), actorOf(c), c.Query("cursor"), limit)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(os, next, toOrder))
}

func (s *Server) groupOrders(c *gin.Context) {
	pageUnder(c, s.orders.GroupOrders, toOrder)
}

func (s *Server) getOrder(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	o, err := s.orders.Get(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

func (s *Server) cancelOrder(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	o, err := s.orders.Cancel(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

type shipmentRequest struct {
	GroupID        string `json:"group_id"`
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

func (s *Server) shipOrder(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req shipmentRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	groupID, err := bodyID("group_id", req.GroupID)
	if err != nil {
		writeError(c, err)
		return
	}
	o, err := s.orders.Ship(c.Request.Context(), actorOf(c), id, orders.ShipInput{GroupID: groupID, Carrier: req.Carrier,
		TrackingNumber: req.TrackingNumber})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

type deliverRequest struct {
	GroupID       string        `json:"group_id"`
	CashCollected *models.Money `json:"cash_collected"`
}

func (s *Server) deliverOrder(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req deliverRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	groupID, err := bodyID("group_id", req.GroupID)
	if err != nil {
		writeError(c, err)
		return
	}
	o, err := s.orders.Deliver(c.Request.Context(), actorOf(c), id, groupID, req.CashCollected)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

type webhookResponse struct {
	Received bool   `json:"received"`
	Outcome  string `json:"outcome"`
}

// stripeWebhook reads the raw body: the signature covers its exact bytes.
func (s *Server) stripeWebhook(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		writeError(c, err)
		return
	}
	outcome, err := s.orders.HandleWebhook(c.Request.Context(), body, c.GetHeader("Stripe-Signature"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookResponse{Received: true, Outcome: outcome})
}
