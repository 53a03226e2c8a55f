package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/stats"
)

// The earnings statistics (contract section 15): GET /stats/earnings for
// auditors and admins, GET /stats/earnings/public for anyone.

// publicQuota is how often one client address may call a public route that
// reads the books (the public statistics, a statement's verification).
var publicQuota = services.Quota{Limit: 10, Window: time.Minute}

// throttled limits a public route to publicQuota per client address, named
// policy in the RateLimit headers of a 429.
func (s *Server) throttled(policy string) gin.HandlerFunc {
	q := publicQuota
	q.Policy = policy
	return func(c *gin.Context) {
		if err := s.auth.Throttle(c.Request.Context(), q, c.ClientIP()); err != nil {
			writeError(c, err)
			c.Abort()
			return
		}
		c.Next()
	}
}

// hours is minutes shown as hours: a JSON number with two decimals,
// rounded towards zero (90 → 1.50).
type hours int64

func (h hours) MarshalJSON() ([]byte, error) { return []byte(csvHours(int64(h))), nil }

type statsRules struct {
	MinWorkers   int   `json:"min_workers"`
	MinGroups    int   `json:"min_groups"`
	DominanceBPS int64 `json:"dominance_bps"`
}

// statsCell is one cell; a suppressed one carries no figures.
type statsCell struct {
	Key                map[string]string `json:"key"`
	Workers            *int              `json:"workers"`
	Groups             *int              `json:"groups"`
	Hours              *hours            `json:"hours"`
	MeanHourlyEarnings *models.Money     `json:"mean_hourly_earnings"`
	BelowBenchmarkBPS  *int64            `json:"below_benchmark_bps"`
	Suppressed         *string           `json:"suppressed"`
}

type statsTotals struct {
	statsCell
	Earnings *models.Money `json:"earnings"`
}

type statsResponse struct {
	Period     periodResponse `json:"period"`
	By         []string       `json:"by"`
	Population string         `json:"population"`
	Rules      statsRules     `json:"rules"`
	Cells      []statsCell    `json:"cells"`
	Totals     statsTotals    `json:"totals"`
}

func toStatsCell(c stats.Cell, currency string) statsCell {
	out := statsCell{Key: map[string]string{}}
	for d, v := range c.Key {
		out.Key[string(d)] = v
	}
	if c.Status != stats.Published {
		status := c.Status.String()
		out.Suppressed = &status
		return out
	}
	workers, groups, h := c.Workers, c.Groups, hours(c.Minutes)
	out.Workers, out.Groups, out.Hours = &workers, &groups, &h
	if c.WithHours > 0 {
		mean, below := models.NewMoney(c.HourlyAverage, currency), c.BelowBPS
		out.MeanHourlyEarnings, out.BelowBenchmarkBPS = &mean, &below
	}
	return out
}

func toStats(r stats.Result) statsResponse {
	out := statsResponse{Period: periodResponse{utc(r.Period.From), utc(r.Period.To)}, Population: "all_workers",
		Rules: statsRules{MinWorkers: r.Rules.MinWorkers, MinGroups: r.Rules.MinGroups, DominanceBPS: r.Rules.DominanceBPS},
		Cells: make([]statsCell, len(r.Cells))}
	if r.Consenting {
		out.Population = "consenting_workers"
	}
	for _, d := range r.By {
		out.By = append(out.By, string(d))
	}
	for i, c := range r.Cells {
		out.Cells[i] = toStatsCell(c, r.Currency)
	}
	out.Totals.statsCell = toStatsCell(r.Totals, r.Currency)
	if r.Totals.Status == stats.Published {
		earnings := models.NewMoney(r.Totals.Earned, r.Currency)
		out.Totals.Earnings = &earnings
	}
	return out
}

func (s *Server) earningsStats(c *gin.Context)       { s.serveStats(c, false) }
func (s *Server) publicEarningsStats(c *gin.Context) { s.serveStats(c, true) }

func (s *Server) serveStats(c *gin.Context, public bool) {
	asCSV, err := wantsCSV(c)
	if err != nil {
		writeError(c, err)
		return
	}
	r, err := s.stats.Earnings(c.Request.Context(), actorOf(c), stats.Query{From: c.Query("from"), To: c.Query("to"),
		By: c.Query("by"), Public: public})
	if err != nil {
		writeError(c, err)
		return
	}
	out := toStats(r)
	if !asCSV {
		c.JSON(http.StatusOK, out)
		return
	}
	writeCSV(c, "earnings.csv", statsCSV(out, r))
}

// statsCSV is the table as CSV sections: the query and rules as field,value
// rows, then the cells (a column per dimension of the key), then the totals.
// Suppressed cells have empty figures.
func statsCSV(out statsResponse, r stats.Result) [][][]string {
	var keyCols []string // a district's province in a column of its own
	for _, d := range []stats.Dimension{stats.Gender, stats.AgeBand, stats.Disability, stats.Province, stats.District} {
		if slices.Contains(r.By, d) || d == stats.Province && slices.Contains(r.By, stats.District) {
			keyCols = append(keyCols, string(d))
		}
	}
	when := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	summary := [][]string{{"field", "value"}, {"currency", r.Currency}, {"period_from", when(out.Period.From)},
		{"period_to", when(out.Period.To)}, {"population", out.Population},
		{"rules_min_workers", strconv.Itoa(out.Rules.MinWorkers)}, {"rules_min_groups", strconv.Itoa(out.Rules.MinGroups)},
		{"rules_dominance_bps", strconv.FormatInt(out.Rules.DominanceBPS, 10)}}
	figures := []string{"workers", "groups", "hours", "mean_hourly_earnings_rs", "below_benchmark_bps", "suppressed"}
	row := func(c statsCell) []string {
		cells := []string{optInt(c.Workers), optInt(c.Groups), "", "", optInt(c.BelowBenchmarkBPS), ""}
		if c.Hours != nil {
			cells[2] = csvHours(int64(*c.Hours))
		}
		if c.MeanHourlyEarnings != nil {
			cells[3] = csvRupees(c.MeanHourlyEarnings.Amount)
		}
		if c.Suppressed != nil {
			cells[5] = *c.Suppressed
		}
		return cells
	}
	table := [][]string{append(append([]string{}, keyCols...), figures...)}
	for _, c := range out.Cells {
		var line []string
		for _, k := range keyCols {
			line = append(line, c.Key[k])
		}
		table = append(table, append(line, row(c)...))
	}
	earnings := ""
	if out.Totals.Earnings != nil {
		earnings = csvRupees(out.Totals.Earnings.Amount)
	}
	totals := [][]string{append(append([]string{}, figures...), "earnings_rs"), append(row(out.Totals.statsCell), earnings)}
	return [][][]string{summary, table, totals}
}

func optInt[T int | int64](n *T) string {
	if n == nil {
		return ""
	}
	return strconv.FormatInt(int64(*n), 10)
}
