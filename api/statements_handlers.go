package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/statements"
)

// Income statements (contract section 15): signed JSON documents, a
// printable page in English and Urdu, and their verification for anyone.

type statementGroupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type statementSubject struct {
	Kind     string            `json:"kind"`
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Group    statementGroupRef `json:"group"`
	District string            `json:"district"`
	Province string            `json:"province"`
}

type statementPeriod struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

type statementFigures struct {
	Sales  models.Money `json:"sales"`
	Earned models.Money `json:"earned"`
	Paid   models.Money `json:"paid"`
	Hours  json.Number  `json:"hours"`
}

type statementMonth struct {
	Month string `json:"month"`
	statementFigures
}

type statementBody struct {
	Version  int              `json:"version"`
	Subject  statementSubject `json:"subject"`
	Period   statementPeriod  `json:"period"`
	Months   []statementMonth `json:"months"`
	Totals   statementFigures `json:"totals"`
	IssuedAt time.Time        `json:"issued_at"`
}

type signatureBody struct {
	Alg   string `json:"alg"`
	KeyID string `json:"key_id"`
	Value string `json:"value"`
}

// statementDocument is an income statement as issued, and as sent back to
// be verified.
type statementDocument struct {
	Statement statementBody `json:"statement"`
	Signature signatureBody `json:"signature"`
}

func toFigures(f statements.Figures) statementFigures {
	return statementFigures{Sales: f.Sales, Earned: f.Earned, Paid: f.Paid, Hours: json.Number(statements.FormatHours(f.Hours))}
}

func toStatementDocument(d statements.Signed) statementDocument {
	st := d.Statement
	out := statementDocument{Statement: statementBody{Version: st.Version,
		Subject: statementSubject{Kind: st.Subject.Kind, ID: st.Subject.ID.String(), Name: st.Subject.Name,
			Group:    statementGroupRef{ID: st.Subject.GroupID.String(), Name: st.Subject.GroupName},
			District: st.Subject.District, Province: st.Subject.Province},
		Period: statementPeriod{From: st.From.UTC(), To: st.To.UTC()}, Months: make([]statementMonth, len(st.Months)),
		Totals: toFigures(st.Totals), IssuedAt: st.IssuedAt.UTC()},
		Signature: signatureBody{Alg: d.Signature.Alg, KeyID: d.Signature.KeyID, Value: base64.StdEncoding.EncodeToString(d.Signature.Value)}}
	for i, m := range st.Months {
		out.Statement.Months[i] = statementMonth{Month: m.Month, statementFigures: toFigures(m.Figures)}
	}
	return out
}

// fromStatementDocument reads a document sent for verification; a value
// that cannot be what the platform issues is a reason it is not valid.
func fromStatementDocument(d statementDocument) (statements.Signed, string) {
	b := d.Statement
	var out statements.Signed
	var err error
	if out.Statement.Subject.ID, err = uuid.Parse(b.Subject.ID); err != nil {
		return out, "statement.subject.id is not a UUID"
	}
	if out.Statement.Subject.GroupID, err = uuid.Parse(b.Subject.Group.ID); err != nil {
		return out, "statement.subject.group.id is not a UUID"
	}
	figures := func(f statementFigures, at string) (statements.Figures, string) {
		h, err := statements.ParseHours(f.Hours.String())
		if err != nil {
			return statements.Figures{}, at + ".hours must be a number with at most two decimal places"
		}
		return statements.Figures{Sales: f.Sales, Earned: f.Earned, Paid: f.Paid, Hours: h}, ""
	}
	st := &out.Statement
	st.Version, st.From, st.To, st.IssuedAt = b.Version, b.Period.From, b.Period.To, b.IssuedAt
	st.Subject.Kind, st.Subject.Name, st.Subject.GroupName = b.Subject.Kind, b.Subject.Name, b.Subject.Group.Name
	st.Subject.District, st.Subject.Province = b.Subject.District, b.Subject.Province
	for i, m := range b.Months {
		f, reason := figures(m.statementFigures, fmt.Sprintf("statement.months[%d]", i))
		if reason != "" {
			return out, reason
		}
		st.Months = append(st.Months, statements.Month{Month: m.Month, Figures: f})
	}
	var reason string
	if st.Totals, reason = figures(b.Totals, "statement.totals"); reason != "" {
		return out, reason
	}
	sig := d.Signature
	out.Signature = statements.Signature{Alg: sig.Alg, KeyID: sig.KeyID}
	if out.Signature.Value, err = base64.StdEncoding.DecodeString(sig.Value); err != nil {
		return out, "signature.value is not base64"
	}
	return out, ""
}

type statementCheck struct {
	Valid  bool    `json:"valid"`
	Reason *string `json:"reason,omitempty"`
}

func (s *Server) verifyStatement(c *gin.Context) {
	var req statementDocument
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	doc, reason := fromStatementDocument(req)
	valid := reason == ""
	if valid {
		valid, reason = s.statements.Verify(doc)
	}
	out := statementCheck{Valid: valid}
	if !valid {
		out.Reason = &reason
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) artisanIncomeStatement(c *gin.Context) { s.serveStatement(c, s.statements.ForArtisan) }

func (s *Server) groupIncomeStatement(c *gin.Context) { s.serveStatement(c, s.statements.ForGroup) }

func (s *Server) serveStatement(c *gin.Context, issue func(context.Context, services.Actor, uuid.UUID, string, string) (statements.Signed, error)) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	asHTML := false
	switch c.Query("format") {
	case "", "json":
	case "html":
		asHTML = true
	default:
		writeError(c, services.BadRequest("format must be json or html"))
		return
	}
	doc, err := issue(c.Request.Context(), actorOf(c), id, c.Query("from"), c.Query("to"))
	if err != nil {
		writeError(c, err)
		return
	}
	out := toStatementDocument(doc)
	if !asHTML {
		c.JSON(http.StatusOK, out)
		return
	}
	view, err := s.newStatementView(doc, out)
	if err != nil {
		writeError(c, err)
		return
	}
	var buf bytes.Buffer
	if err := statementPageTemplates.ExecuteTemplate(&buf, "statement", view); err != nil {
		writeError(c, err)
		return
	}
	c.Header("Content-Security-Policy", statementPageCSP)
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

//go:embed statement_page.html
var statementPageText string

var statementPageTemplates = template.Must(template.New("statement page").Parse(statementPageText))

var statementPageCSP = func() string {
	var buf bytes.Buffer
	if err := statementPageTemplates.ExecuteTemplate(&buf, "style", nil); err != nil {
		panic(err)
	}
	csp, err := pageCSP(buf.Bytes(), "'none'")
	if err != nil {
		panic(err)
	}
	return csp
}()

// statementView is the printable page: every amount in rupees, every date
// in Pakistan's time, each label in English and Urdu.
type statementView struct {
	SubjectLabel, SubjectLabelUrdu string
	SalesLabel, SalesLabelUrdu     string
	Name, Group, Place             string
	Period, Issued                 string
	Months                         []monthView
	Totals                         monthView
	Explanation, ExplanationUrdu   string
	Alg, KeyID, Signature          string
	VerifyURL, KeyURL              string
	JSON                           string
}

type monthView struct {
	Month, MonthUrdu           string
	Sales, Earned, Paid, Hours string
}

var urduMonths = []string{"جنوری", "فروری", "مارچ", "اپریل", "مئی", "جون", "جولائی", "اگست", "ستمبر", "اکتوبر", "نومبر", "دسمبر"}

func (s *Server) newStatementView(d statements.Signed, doc statementDocument) (statementView, error) {
	st := d.Statement
	raw, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return statementView{}, err
	}
	v := statementView{Name: st.Subject.Name, Place: joinNonEmpty(", ", st.Subject.District, provinceName(models.Province(st.Subject.Province))),
		Period: karachiSpan(st.From, st.To), Issued: karachiTime(st.IssuedAt), Alg: d.Signature.Alg, KeyID: d.Signature.KeyID,
		Signature: doc.Signature.Value, VerifyURL: s.public + Base + "/statements/verify",
		KeyURL: s.public + Base + "/audit/ledger/public-key", JSON: string(raw)}
	if st.Subject.Kind == statements.SubjectArtisan {
		v.SubjectLabel, v.SubjectLabelUrdu, v.Group = "Artisan", "کاریگر", st.Subject.GroupName
		v.SalesLabel, v.SalesLabelUrdu = "Her work sold", "اس کے کام کی فروخت"
		v.Explanation = "Her work sold: her part, by hours of work, of the goods she made that were sold, less refunds. " +
			"Earned: her wages for that work and her shares of the group's profit. Paid: what the group paid her. " +
			"Hours: the work recorded on the goods sold."
		v.ExplanationUrdu = "فروخت: اس کے بنائے ہوئے سامان کی فروخت میں اس کا حصہ، واپسی کے بعد۔ کمائی: اس کام کی اجرت اور گروپ کے منافع میں اس کا حصہ۔ ادائیگی: جو گروپ نے اسے ادا کیا۔"
	} else {
		v.SubjectLabel, v.SubjectLabelUrdu = "Group", "گروپ"
		v.SalesLabel, v.SalesLabelUrdu = "Sales", "فروخت"
		v.Explanation = "Sales: the group's goods sold, less refunds. Earned: what its artisans earned (wages and shares of profit). " +
			"Paid: what the group paid its artisans. Hours: the work recorded on the goods sold."
		v.ExplanationUrdu = "فروخت: گروپ کے سامان کی فروخت، واپسی کے بعد۔ کمائی: کاریگروں کی اجرت اور منافع میں حصہ۔ ادائیگی: جو گروپ نے کاریگروں کو ادا کیا۔"
	}
	figures := func(f statements.Figures) monthView {
		return monthView{Sales: rupees(f.Sales.Amount, f.Sales.Currency), Earned: rupees(f.Earned.Amount, f.Earned.Currency),
			Paid: rupees(f.Paid.Amount, f.Paid.Currency), Hours: statements.FormatHours(f.Hours)}
	}
	for _, m := range st.Months {
		mv := figures(m.Figures)
		if t, err := time.Parse("2006-01", m.Month); err == nil {
			mv.Month, mv.MonthUrdu = t.Format("January 2006"), fmt.Sprintf("%s %d", urduMonths[t.Month()-1], t.Year())
		}
		v.Months = append(v.Months, mv)
	}
	v.Totals = figures(st.Totals)
	return v, nil
}

// karachiTime is an instant as people in Pakistan read it.
func karachiTime(t time.Time) string {
	return t.In(statements.Karachi).Format("2 January 2006, 15:04") + " (Pakistan time)"
}

// karachiSpan is [from, to) in Pakistan's dates: whole days as "1 January
// 2026 to 30 June 2026", other bounds with their times.
func karachiSpan(from, to time.Time) string {
	f, t := from.In(statements.Karachi), to.In(statements.Karachi)
	midnight := func(x time.Time) bool {
		return x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0
	}
	if midnight(f) && midnight(t) {
		return f.Format("2 January 2006") + " to " + t.AddDate(0, 0, -1).Format("2 January 2006")
	}
	return f.Format("2 January 2006, 15:04") + " to " + t.Format("2 January 2006, 15:04") + " (Pakistan time)"
}
