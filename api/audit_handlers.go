package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/audit"
)

type periodResponse struct {
	From *time.Time `json:"from"`
	To   *time.Time `json:"to"`
}

type reportArtisan struct {
	ArtisanID           string        `json:"artisan_id"`
	DisplayName         string        `json:"display_name"`
	District            string        `json:"district"`
	LaborMinutes        int64         `json:"labor_minutes"`
	Earned              models.Money  `json:"earned"`
	Paid                models.Money  `json:"paid"`
	Acknowledged        models.Money  `json:"acknowledged"`
	Balance             models.Money  `json:"balance"`
	EffectiveHourlyWage *models.Money `json:"effective_hourly_wage"`
	MeetsBenchmark      *bool         `json:"meets_benchmark"`
}

type finding struct {
	Kind        string        `json:"kind"`
	ArtisanID   string        `json:"artisan_id"`
	DisplayName string        `json:"display_name"`
	PayoutID    *string       `json:"payout_id,omitempty"`
	Amount      *models.Money `json:"amount,omitempty"`
	Since       *time.Time    `json:"since,omitempty"`
	Check       string        `json:"check"`
}

type groupReportResponse struct {
	GroupID               string            `json:"group_id"`
	GroupName             string            `json:"group_name"`
	Province              string            `json:"province"`
	District              string            `json:"district"`
	Period                periodResponse    `json:"period"`
	Sales                 models.Money      `json:"sales"`
	Shipping              models.Money      `json:"shipping"`
	Refunds               models.Money      `json:"refunds"`
	Orders                int               `json:"orders"`
	Units                 int64             `json:"units"`
	CollectiveFund        models.Money      `json:"collective_fund"`
	Fees                  reportFees        `json:"fees"`
	Benchmark             benchmarkResponse `json:"benchmark"`
	Artisans              []reportArtisan   `json:"artisans"`
	ArtisansWithHours     int               `json:"artisans_with_hours"`
	ArtisansWithoutHours  int               `json:"artisans_without_hours"`
	FairWageComplianceBPS int64             `json:"fair_wage_compliance_bps"`
	Findings              []finding         `json:"findings"`
	LedgerVerified        bool              `json:"ledger_verified"`
	Payouts               payoutCounts      `json:"payouts"`
	ArtisanConfirmedBPS   int64             `json:"artisan_confirmed_bps"`
}

// payoutCounts are the period's payouts and how many their artisans
// answered themselves by SMS.
type payoutCounts struct {
	Made               int `json:"made"`
	WithReceipt        int `json:"with_receipt"`
	ConfirmedByArtisan int `json:"confirmed_by_artisan"`
	Disputed           int `json:"disputed"`
}

func toPayoutCounts(c audit.Confirmation) payoutCounts {
	return payoutCounts{Made: c.Payouts, WithReceipt: c.WithReceipt, ConfirmedByArtisan: c.Confirmed, Disputed: c.Disputed}
}

type reportFees struct {
	Platform          models.Money `json:"platform"`
	PaymentProcessing models.Money `json:"payment_processing"`
}

func toGroupReport(r audit.GroupReport) groupReportResponse {
	m := func(a int64) models.Money { return models.NewMoney(a, r.Currency) }
	out := groupReportResponse{GroupID: r.Group.ID.String(), GroupName: r.Group.Name, Province: string(r.Group.Province),
		District: r.Group.District, Period: periodResponse{utc(r.Period.From), utc(r.Period.To)}, Sales: m(r.Sales),
		Shipping: m(r.Shipping), Refunds: m(r.Refunds), Orders: r.Orders, Units: r.Units, CollectiveFund: m(r.CollectiveFund),
		Fees:      reportFees{Platform: m(r.PlatformFee), PaymentProcessing: m(r.ProcessingFee)},
		Benchmark: toBenchmark(r.Benchmark), Artisans: []reportArtisan{}, ArtisansWithHours: r.WithHours,
		ArtisansWithoutHours: r.WithoutHours, FairWageComplianceBPS: r.ComplianceBPS, Findings: []finding{},
		LedgerVerified: r.LedgerVerified, Payouts: toPayoutCounts(r.Confirmation), ArtisanConfirmedBPS: r.Confirmation.ConfirmedBPS}
	for _, a := range r.Artisans {
		line := reportArtisan{ArtisanID: a.ArtisanID.String(), DisplayName: a.DisplayName, District: a.District,
			LaborMinutes: a.Minutes, Earned: m(a.Earned), Paid: m(a.Paid), Acknowledged: m(a.Acknowledged), Balance: m(a.Balance)}
		if a.HasHours {
			wage, meets := m(a.HourlyWage), a.MeetsBenchmark
			line.EffectiveHourlyWage, line.MeetsBenchmark = &wage, &meets
		}
		out.Artisans = append(out.Artisans, line)
	}
	for _, f := range r.Findings {
		fr := finding{Kind: f.Kind, ArtisanID: f.ArtisanID.String(), DisplayName: f.DisplayName, Since: f.Since, Check: f.Check}
		if f.PayoutID != nil {
			id := f.PayoutID.String()
			fr.PayoutID = &id
		}
		if f.Amount != nil {
			amount := m(*f.Amount)
			fr.Amount = &amount
		}
		out.Findings = append(out.Findings, fr)
	}
	return out
}

// wantsCSV is ?format=csv or an Accept header that prefers text/csv.
func wantsCSV(c *gin.Context) (bool, error) {
	switch c.Query("format") {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return strings.Contains(c.GetHeader("Accept"), "text/csv"), nil
	}
	return false, services.BadRequest("format must be json or csv")
}

func (s *Server) groupReport(c *gin.Context) {
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
	r, err := s.audit.GroupReport(c.Request.Context(), actorOf(c), id, c.Query("from"), c.Query("to"))
	if err != nil {
		writeError(c, err)
		return
	}
	if !asCSV {
		c.JSON(http.StatusOK, toGroupReport(r))
		return
	}
	writeCSV(c, "group-report-"+r.Group.ID.String()+".csv", reportCSV(toGroupReport(r), r.Currency))
}

type impactRow struct {
	Province       string       `json:"province"`
	District       string       `json:"district"`
	Gender         string       `json:"gender"`
	Artisans       int          `json:"artisans"`
	WithHours      int          `json:"artisans_with_hours"`
	WithoutHours   int          `json:"artisans_without_hours"`
	LaborMinutes   int64        `json:"labor_minutes"`
	Earned         models.Money `json:"earned"`
	HourlyEarnings models.Money `json:"average_hourly_earnings"`
	Benchmark      models.Money `json:"benchmark_hourly"`
	RatioBPS       int64        `json:"ratio_bps"`
}

type impactResponse struct {
	Period                 periodResponse `json:"period"`
	Province               *string        `json:"province"`
	ActiveGroups           int            `json:"active_groups"`
	ActiveArtisans         int            `json:"active_artisans"`
	ArtisansWithoutHours   int            `json:"artisans_without_hours"`
	PaidToArtisans         models.Money   `json:"total_paid_to_artisans"`
	EarnedByArtisans       models.Money   `json:"total_earned_by_artisans"`
	MedianArtisanShareBPS  int64          `json:"median_artisan_share_bps"`
	AverageHourlyEarnings  models.Money   `json:"average_hourly_earnings"`
	Rows                   []impactRow    `json:"rows"`
	LedgerVerified         bool           `json:"ledger_verified"`
	ExcludedFromHourlyNote string         `json:"note"`
	Payouts                payoutCounts   `json:"payouts"`
	ArtisanConfirmedBPS    int64          `json:"artisan_confirmed_bps"`
}

func (s *Server) impactReport(c *gin.Context) {
	asCSV, err := wantsCSV(c)
	if err != nil {
		writeError(c, err)
		return
	}
	r, err := s.audit.Impact(c.Request.Context(), actorOf(c), c.Query("from"), c.Query("to"), c.Query("province"))
	if err != nil {
		writeError(c, err)
		return
	}
	m := func(a int64) models.Money { return models.NewMoney(a, r.Currency) }
	out := impactResponse{Period: periodResponse{utc(r.Period.From), utc(r.Period.To)}, ActiveGroups: r.ActiveGroups,
		ActiveArtisans: r.ActiveArtisans, ArtisansWithoutHours: r.WithoutHours, PaidToArtisans: m(r.PaidToArtisans),
		EarnedByArtisans: m(r.EarnedByArtisans), MedianArtisanShareBPS: r.MedianArtisanShareBPS,
		AverageHourlyEarnings: m(r.HourlyEarnings), Rows: []impactRow{}, LedgerVerified: r.LedgerVerified,
		ExcludedFromHourlyNote: fmt.Sprintf("%d active artisans have no logged hours: they are counted, and left out of the hourly averages", r.WithoutHours),
		Payouts:                toPayoutCounts(r.Confirmation), ArtisanConfirmedBPS: r.Confirmation.ConfirmedBPS}
	if r.Province != "" {
		out.Province = &r.Province
	}
	for _, x := range r.Rows {
		out.Rows = append(out.Rows, impactRow{Province: string(x.Province), District: x.District, Gender: x.Gender,
			Artisans: x.Artisans, WithHours: x.WithHours, WithoutHours: x.WithoutHours, LaborMinutes: x.Minutes,
			Earned: m(x.Earned), HourlyEarnings: m(x.HourlyEarnings), Benchmark: m(x.Benchmark), RatioBPS: x.RatioBPS})
	}
	if asCSV {
		writeCSV(c, "impact.csv", reportCSV(out, r.Currency))
		return
	}
	c.JSON(http.StatusOK, out)
}

// writeCSV answers with sections of rows as CSV, a blank line between
// sections, every cell through csvText: the one place CSV is written. The
// byte-order mark tells spreadsheet programs the file is UTF-8, so Urdu
// names open intact.
func writeCSV(c *gin.Context, filename string, sections [][][]string) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	for i, rows := range sections {
		if i > 0 {
			w.Flush()
			buf.WriteString("\n")
		}
		for _, row := range rows {
			cells := make([]string, len(row))
			for j, cell := range row {
				cells[j] = csvText(cell)
			}
			if err := w.Write(cells); err != nil {
				writeError(c, err)
				return
			}
		}
	}
	if w.Flush(); w.Error() != nil {
		writeError(c, w.Error())
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvRupees is an amount of paisa as rupees with two decimals: 123456 → "1234.56".
func csvRupees(paisa int64) string {
	sign := ""
	if paisa < 0 {
		sign, paisa = "-", -paisa
	}
	return fmt.Sprintf("%s%d.%02d", sign, paisa/100, paisa%100)
}

// csvHours is minutes as hours with two decimals, rounded down: 90 → "1.50".
func csvHours(minutes int64) string {
	sign := ""
	if minutes < 0 {
		sign, minutes = "-", -minutes
	}
	h := minutes * 100 / 60
	return fmt.Sprintf("%s%d.%02d", sign, h/100, h%100)
}
