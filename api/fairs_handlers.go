package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/fairs"
	"github.com/karigar/karigar/services/page"
)

// Craft fairs (contract section 14): events, stalls, stock moved to and from
// them, batches of sales recorded offline, the register's close, the report.
// The label sheet is in fair_labels.go.

type eventRequest struct {
	Name     string     `json:"name"`
	Venue    string     `json:"venue"`
	District string     `json:"district"`
	StartsAt *time.Time `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at"`
}

type stallSummaryResponse struct {
	GroupID          string     `json:"group_id"`
	GroupName        string     `json:"group_name"`
	RegisterClosedAt *time.Time `json:"register_closed_at"`
}

type eventResponse struct {
	ID        string                 `json:"id"`
	Name      string                 `json:"name"`
	Venue     string                 `json:"venue"`
	District  string                 `json:"district"`
	StartsAt  time.Time              `json:"starts_at"`
	EndsAt    time.Time              `json:"ends_at"`
	CreatedAt time.Time              `json:"created_at"`
	Stalls    []stallSummaryResponse `json:"stalls"`
}

func toEvent(e fairs.Event) eventResponse {
	out := eventResponse{ID: e.ID.String(), Name: e.Name, Venue: e.Venue, District: e.District, StartsAt: e.StartsAt.UTC(),
		EndsAt: e.EndsAt.UTC(), CreatedAt: e.CreatedAt.UTC(), Stalls: make([]stallSummaryResponse, len(e.Stalls))}
	for i, st := range e.Stalls {
		out.Stalls[i] = stallSummaryResponse{GroupID: st.GroupID.String(), GroupName: st.GroupName, RegisterClosedAt: utc(st.ClosedAt)}
	}
	return out
}

func (s *Server) createEvent(c *gin.Context) {
	var req eventRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	ev, err := s.fairs.CreateEvent(c.Request.Context(), actorOf(c), fairs.EventInput{Name: req.Name, Venue: req.Venue,
		District: req.District, StartsAt: req.StartsAt, EndsAt: req.EndsAt})
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, toEvent(ev), "events", ev.ID.String())
}

func (s *Server) getEvent(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ev, err := s.fairs.GetEvent(c.Request.Context(), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toEvent(ev))
}

func (s *Server) listEvents(c *gin.Context) {
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	evs, next, err := s.fairs.ListEvents(c.Request.Context(), c.Query("status"), c.Query("cursor"), limit)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(evs, next, toEvent))
}

type stallRequest struct {
	GroupID string `json:"group_id"`
}

type stockLineResponse struct {
	EventID     string `json:"event_id"`
	GroupID     string `json:"group_id"`
	ProductID   string `json:"product_id"`
	Title       string `json:"title"`
	AtStall     int    `json:"at_stall"`
	MovedIn     int    `json:"moved_in"`
	Returned    int    `json:"returned"`
	Sold        int    `json:"sold"`
	Unstocked   int    `json:"sold_beyond_stock"`
	OnlineStock int    `json:"online_stock"`
}

func toStockLine(l fairs.StockLine) stockLineResponse {
	return stockLineResponse{EventID: l.EventID.String(), GroupID: l.GroupID.String(), ProductID: l.ProductID.String(),
		Title: l.Title, AtStall: l.Quantity, MovedIn: l.MovedIn, Returned: l.Returned, Sold: l.Sold, Unstocked: l.Unstocked,
		OnlineStock: l.Online}
}

type registerResponse struct {
	ClosedAt      time.Time    `json:"closed_at"`
	CashExpected  models.Money `json:"cash_expected"`
	CountedCash   models.Money `json:"counted_cash"`
	OverShort     models.Money `json:"over_short"`
	TransactionID *string      `json:"transaction_id"`
}

type stallSalesResponse struct {
	Count               int64        `json:"count"`
	Units               int64        `json:"units"`
	Total               models.Money `json:"total"`
	NeedsReconciliation int64        `json:"needs_reconciliation"`
}

type stallResponse struct {
	EventID      string              `json:"event_id"`
	GroupID      string              `json:"group_id"`
	GroupName    string              `json:"group_name"`
	CreatedAt    time.Time           `json:"created_at"`
	Stock        []stockLineResponse `json:"stock"`
	Sales        stallSalesResponse  `json:"sales"`
	CashExpected models.Money        `json:"cash_expected"`
	Register     *registerResponse   `json:"register"`
}

func toStall(st fairs.Stall) stallResponse {
	cur := st.Currency
	out := stallResponse{EventID: st.EventID.String(), GroupID: st.GroupID.String(), GroupName: st.GroupName,
		CreatedAt: st.CreatedAt.UTC(), Stock: make([]stockLineResponse, len(st.Stock)),
		Sales: stallSalesResponse{Count: st.Sales, Units: st.Units, Total: models.NewMoney(st.Total, cur),
			NeedsReconciliation: st.Flagged}, CashExpected: models.NewMoney(st.CashExpected, cur)}
	for i, l := range st.Stock {
		out.Stock[i] = toStockLine(l)
	}
	if st.ClosedAt != nil {
		r := &registerResponse{ClosedAt: st.ClosedAt.UTC(), CashExpected: models.NewMoney(*st.ExpectedCash, cur),
			CountedCash: models.NewMoney(*st.CountedCash, cur), OverShort: models.NewMoney(*st.OverShort, cur)}
		if st.CloseTransactionID != nil {
			id := st.CloseTransactionID.String()
			r.TransactionID = &id
		}
		out.Register = r
	}
	return out
}

func (s *Server) addStall(c *gin.Context) {
	eventID, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req stallRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	groupID, err := bodyID("group_id", req.GroupID)
	if err != nil {
		writeError(c, err)
		return
	}
	st, err := s.fairs.AddStall(c.Request.Context(), actorOf(c), eventID, groupID)
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, toStall(st), "events", eventID.String(), "stalls", groupID.String())
}

// stallPath parses the :id (event) and :group_id path parameters.
func stallPath(c *gin.Context) (uuid.UUID, uuid.UUID, error) {
	eventID, err := pathID(c)
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	groupID, err := uuid.Parse(c.Param("group_id"))
	if err != nil {
		return uuid.Nil, uuid.Nil, services.BadRequest("group_id %q is not a UUID", c.Param("group_id"))
	}
	return eventID, groupID, nil
}

func (s *Server) getStall(c *gin.Context) {
	eventID, groupID, err := stallPath(c)
	if err != nil {
		writeError(c, err)
		return
	}
	st, err := s.fairs.GetStall(c.Request.Context(), actorOf(c), eventID, groupID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toStall(st))
}

type closeStallRequest struct {
	CountedCash *models.Money `json:"counted_cash"`
}

func (s *Server) closeStall(c *gin.Context) {
	eventID, groupID, err := stallPath(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req closeStallRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.CountedCash == nil {
		writeError(c, services.Invalid(map[string]string{"counted_cash": "is required: the cash counted in the register"}))
		return
	}
	st, err := s.fairs.CloseStall(c.Request.Context(), actorOf(c), eventID, groupID, *req.CountedCash)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toStall(st))
}

type stockRequest struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

func (s *Server) stockToStall(c *gin.Context)   { s.moveStock(c, s.fairs.ToStall) }
func (s *Server) stockFromStall(c *gin.Context) { s.moveStock(c, s.fairs.FromStall) }

func (s *Server) moveStock(c *gin.Context, move func(context.Context, services.Actor, uuid.UUID, fairs.StockInput) (fairs.StockLine, error)) {
	eventID, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req stockRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	// A malformed id is no product of the actor's: the service says so with the other problems.
	productID, _ := uuid.Parse(req.ProductID)
	l, err := move(c.Request.Context(), actorOf(c), eventID, fairs.StockInput{ProductID: productID, Quantity: req.Quantity})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toStockLine(l))
}

type fairSaleItemRequest struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

type fairSaleRequest struct {
	ID         string                `json:"id"`
	RecordedAt *time.Time            `json:"recorded_at"`
	Items      []fairSaleItemRequest `json:"items"`
	Payment    string                `json:"payment"`
}

type fairSalesRequest struct {
	Sales []fairSaleRequest `json:"sales"`
}

type fairSaleResult struct {
	ID                  string       `json:"id"`
	Status              string       `json:"status"`
	GroupID             string       `json:"group_id"`
	RecordedAt          time.Time    `json:"recorded_at"`
	Payment             string       `json:"payment"`
	Total               models.Money `json:"total"`
	NeedsReconciliation bool         `json:"needs_reconciliation"`
	Reasons             []string     `json:"reconciliation_reasons"`
}

type fairSalesResponse struct {
	Applied   int              `json:"applied"`
	Duplicate int              `json:"duplicate"`
	Sales     []fairSaleResult `json:"sales"`
}

func (s *Server) recordFairSales(c *gin.Context) {
	eventID, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req fairSalesRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	in := make([]fairs.SaleInput, len(req.Sales))
	for i, sl := range req.Sales {
		in[i] = fairs.SaleInput{ID: sl.ID, RecordedAt: sl.RecordedAt, Payment: sl.Payment, Items: make([]fairs.SaleItemInput, len(sl.Items))}
		for j, it := range sl.Items {
			in[i].Items[j] = fairs.SaleItemInput{ProductID: it.ProductID, Quantity: it.Quantity}
		}
	}
	results, err := s.fairs.RecordSales(c.Request.Context(), actorOf(c), eventID, in)
	if err != nil {
		writeError(c, err)
		return
	}
	out := fairSalesResponse{Sales: make([]fairSaleResult, len(results))}
	for i, r := range results {
		if r.Status == fairs.SaleApplied {
			out.Applied++
		} else {
			out.Duplicate++
		}
		reasons := r.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		out.Sales[i] = fairSaleResult{ID: r.Sale.ID.String(), Status: r.Status, GroupID: r.Sale.GroupID.String(),
			RecordedAt: r.Sale.RecordedAt.UTC(), Payment: r.Sale.Payment, Total: models.NewMoney(r.Sale.Total, r.Sale.Currency),
			NeedsReconciliation: r.Sale.NeedsReconciliation, Reasons: reasons}
	}
	c.JSON(http.StatusOK, out)
}

type reportProductResponse struct {
	ProductID string       `json:"product_id"`
	Title     string       `json:"title"`
	MovedIn   int          `json:"moved_in"`
	Returned  int          `json:"returned"`
	AtStall   int          `json:"at_stall"`
	UnitsSold int          `json:"units_sold"`
	Unstocked int          `json:"sold_beyond_stock"`
	Sales     models.Money `json:"sales"`
}

type reportArtisanResponse struct {
	ArtisanID   string       `json:"artisan_id"`
	DisplayName string       `json:"display_name"`
	Earned      models.Money `json:"earned"`
	Minutes     int64        `json:"minutes_worked"`
	Units       int64        `json:"units"`
}

type reportFlaggedResponse struct {
	ID         string       `json:"id"`
	RecordedAt time.Time    `json:"recorded_at"`
	Payment    string       `json:"payment"`
	Total      models.Money `json:"total"`
	Reasons    []string     `json:"reconciliation_reasons"`
}

type reportStallResponse struct {
	GroupID        string                  `json:"group_id"`
	GroupName      string                  `json:"group_name"`
	Sales          int64                   `json:"sales"`
	Units          int64                   `json:"units"`
	Total          models.Money            `json:"total"`
	ByPayment      map[string]models.Money `json:"by_payment"`
	CashExpected   models.Money            `json:"cash_expected"`
	CountedCash    *models.Money           `json:"counted_cash"`
	OverShort      *models.Money           `json:"over_short"`
	ClosedAt       *time.Time              `json:"register_closed_at"`
	CashAfterClose models.Money            `json:"cash_after_close"`
	Products       []reportProductResponse `json:"products"`
	Artisans       []reportArtisanResponse `json:"artisans"`
	GroupMargin    models.Money            `json:"group_margin"`
	CollectiveFund models.Money            `json:"collective_fund"`
	PlatformFee    models.Money            `json:"platform_fee"`
	Flagged        []reportFlaggedResponse `json:"needs_reconciliation"`
}

type reportTotalsResponse struct {
	Sales          int64        `json:"sales"`
	Units          int64        `json:"units"`
	Total          models.Money `json:"total"`
	CashExpected   models.Money `json:"cash_expected"`
	CountedCash    models.Money `json:"counted_cash"`
	OverShort      models.Money `json:"over_short"`
	ArtisansEarned models.Money `json:"artisans_earned"`
}

type eventReportResponse struct {
	Event  eventResponse         `json:"event"`
	Stalls []reportStallResponse `json:"stalls"`
	Totals reportTotalsResponse  `json:"totals"`
}

func optionalMoney(amount *int64, currency string) *models.Money {
	if amount == nil {
		return nil
	}
	m := models.NewMoney(*amount, currency)
	return &m
}

func toEventReport(r fairs.Report) eventReportResponse {
	cur := r.Currency
	m := func(a int64) models.Money { return models.NewMoney(a, cur) }
	out := eventReportResponse{Event: toEvent(r.Event), Stalls: make([]reportStallResponse, len(r.Stalls)),
		Totals: reportTotalsResponse{Sales: r.Totals.Sales, Units: r.Totals.Units, Total: m(r.Totals.Total),
			CashExpected: m(r.Totals.CashExpected), CountedCash: m(r.Totals.CountedCash), OverShort: m(r.Totals.OverShort),
			ArtisansEarned: m(r.Totals.ArtisansEarned)}}
	for i, st := range r.Stalls {
		rs := reportStallResponse{GroupID: st.GroupID.String(), GroupName: st.GroupName, Sales: st.Sales, Units: st.Units,
			Total: m(st.Total), ByPayment: map[string]models.Money{}, CashExpected: m(st.CashExpected),
			CountedCash: optionalMoney(st.CountedCash, cur), OverShort: optionalMoney(st.OverShort, cur), ClosedAt: utc(st.ClosedAt),
			CashAfterClose: m(st.CashAfterClose), GroupMargin: m(st.GroupMargin), CollectiveFund: m(st.CollectiveFund),
			PlatformFee: m(st.PlatformFee), Products: make([]reportProductResponse, len(st.Products)),
			Artisans: make([]reportArtisanResponse, len(st.Artisans)), Flagged: make([]reportFlaggedResponse, len(st.Flagged))}
		for k, v := range st.ByPayment {
			rs.ByPayment[k] = m(v)
		}
		for j, p := range st.Products {
			rs.Products[j] = reportProductResponse{ProductID: p.ProductID.String(), Title: p.Title, MovedIn: p.MovedIn,
				Returned: p.Returned, AtStall: p.AtStall, UnitsSold: p.UnitsSold, Unstocked: p.Unstocked, Sales: m(p.Amount)}
		}
		for j, a := range st.Artisans {
			rs.Artisans[j] = reportArtisanResponse{ArtisanID: a.ArtisanID.String(), DisplayName: a.DisplayName, Earned: m(a.Earned),
				Minutes: a.Minutes, Units: a.Units}
		}
		for j, f := range st.Flagged {
			rs.Flagged[j] = reportFlaggedResponse{ID: f.ID.String(), RecordedAt: f.RecordedAt.UTC(), Payment: f.Payment,
				Total: m(f.Total), Reasons: fairs.ReasonsOf(f)}
		}
		out.Stalls[i] = rs
	}
	return out
}

func (s *Server) eventReport(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	r, err := s.fairs.Report(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toEventReport(r))
}
