package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/catalog"
)

type splitLine struct {
	Kind   string       `json:"kind"`
	Label  string       `json:"label"`
	Amount models.Money `json:"amount"`
	BPS    int64        `json:"bps"`
}

type benchmarkResponse struct {
	Region        string       `json:"region"`
	Name          string       `json:"name"`
	Hourly        models.Money `json:"hourly"`
	Monthly       models.Money `json:"monthly"`
	HoursPerMonth int          `json:"hours_per_month"`
	Source        string       `json:"source"`
	UpdatedAt     time.Time    `json:"updated_at"`
}

func toBenchmark(b models.WageBenchmark) benchmarkResponse {
	return benchmarkResponse{Region: b.Region, Name: b.Name, Hourly: models.NewMoney(b.Hourly, b.Currency),
		Monthly: models.NewMoney(b.Monthly, b.Currency), HoursPerMonth: b.HoursPerMonth, Source: b.Source, UpdatedAt: b.UpdatedAt.UTC()}
}

type wageCheck struct {
	EffectiveHourlyWage models.Money      `json:"effective_hourly_wage"`
	Benchmark           benchmarkResponse `json:"benchmark"`
	RatioBPS            int64             `json:"ratio_bps"`
	MeetsBenchmark      bool              `json:"meets_benchmark"`
}

type transparencyResponse struct {
	ProductID       string       `json:"product_id"`
	Price           models.Money `json:"price"`
	Lines           []splitLine  `json:"lines"`
	ArtisanShareBPS int64        `json:"artisan_share_bps"`
	WageCheck       wageCheck    `json:"wage_check"`
}

func toTransparency(t catalog.Transparency) transparencyResponse {
	cur := t.Product.Currency
	out := transparencyResponse{ProductID: t.Product.ID.String(), Price: models.NewMoney(t.Product.Price, cur),
		Lines: make([]splitLine, len(t.Lines)), ArtisanShareBPS: t.ArtisanShareBPS,
		WageCheck: wageCheck{EffectiveHourlyWage: models.NewMoney(t.EffectiveHourlyWage, cur), Benchmark: toBenchmark(t.Benchmark),
			RatioBPS: t.RatioBPS, MeetsBenchmark: t.MeetsBenchmark}}
	for i, l := range t.Lines {
		out.Lines[i] = splitLine{Kind: l.Kind, Label: l.Label, Amount: models.NewMoney(l.Amount, cur), BPS: l.BPS}
	}
	return out
}

func (s *Server) getTransparency(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	t, err := s.catalog.Transparency(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toTransparency(t))
}

func (s *Server) listBenchmarks(c *gin.Context) {
	bs, err := s.catalog.Benchmarks(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(bs, "", toBenchmark))
}

type benchmarkRequest struct {
	Name          string       `json:"name"`
	Monthly       models.Money `json:"monthly"`
	HoursPerMonth *int         `json:"hours_per_month"`
	Source        string       `json:"source"`
}

func (s *Server) setBenchmark(c *gin.Context) {
	var req benchmarkRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	b, isNew, err := s.catalog.SetBenchmark(c.Request.Context(), actorOf(c), c.Param("region"),
		catalog.BenchmarkInput{Name: req.Name, Monthly: req.Monthly, HoursPerMonth: req.HoursPerMonth, Source: req.Source})
	if err != nil {
		writeError(c, err)
		return
	}
	if isNew {
		created(c, toBenchmark(b), "admin", "wage-benchmarks", b.Region)
		return
	}
	c.JSON(http.StatusOK, toBenchmark(b))
}
