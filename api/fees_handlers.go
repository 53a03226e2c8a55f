package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/services/catalog"
)

type feesResponse struct {
	PlatformFeeBPS   int       `json:"platform_fee_bps"`
	ProcessingFeeBPS int       `json:"processing_fee_bps"`
	UpdatedAt        time.Time `json:"updated_at"`
}

type feesChangeResponse struct {
	feesResponse
	ProductsRefigured     int64 `json:"products_refigured"`
	ProductsNeedRepricing int64 `json:"products_needing_repricing"`
}

type feesRequest struct {
	PlatformFeeBPS   *int `json:"platform_fee_bps"`
	ProcessingFeeBPS *int `json:"processing_fee_bps"`
}

func toFees(f catalog.Fees) feesResponse {
	return feesResponse{PlatformFeeBPS: f.PlatformFeeBPS, ProcessingFeeBPS: f.ProcessingFeeBPS, UpdatedAt: f.UpdatedAt.UTC()}
}

func (s *Server) getFees(c *gin.Context) {
	f, err := s.catalog.Fees(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toFees(f))
}

func (s *Server) setFees(c *gin.Context) {
	var req feesRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	ch, err := s.catalog.SetFees(c.Request.Context(), actorOf(c),
		catalog.FeesInput{PlatformFeeBPS: req.PlatformFeeBPS, ProcessingFeeBPS: req.ProcessingFeeBPS})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, feesChangeResponse{feesResponse: toFees(ch.Fees), ProductsRefigured: ch.Refigured,
		ProductsNeedRepricing: ch.NeedsRepricing})
}
