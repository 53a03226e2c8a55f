package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/ledger"
)

type statementCheckBody struct {
	Valid  bool    `json:"valid"`
	Reason *string `json:"reason"`
}

// incomeDoc is an issued statement, decoded loosely so that a test can
// change any value and send it back.
type incomeDoc map[string]any

func (d incomeDoc) statement() map[string]any { return d["statement"].(map[string]any) }

func (d incomeDoc) clone(t *testing.T) incomeDoc {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out incomeDoc
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkStatement sends doc to be verified, from a client address of its
// own unless opts name one (verification is limited per address).
func (e *env) checkStatement(doc any, opts ...reqOption) statementCheckBody {
	e.t.Helper()
	if len(opts) == 0 {
		opts = []reqOption{from(fmt.Sprintf("10.%d.%d.%d", rand.IntN(256), rand.IntN(256), 1+rand.IntN(254)))}
	}
	var out statementCheckBody
	res := e.do("POST", "/api/v1/statements/verify", doc, opts...)
	res.wantStatus(e.t, http.StatusOK)
	res.decode(e.t, &out)
	return out
}

// An artisan's income statement: issued only with her consent, only to
// those who may read her group, month by month from the ledger, signed;
// the same document verifies without a login, and one with any figure
// changed does not.
func TestIncomeStatements(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		manager := bearer(f.manager.AccessToken)
		pub, priv := uuid.MustParse(f.public.ID), uuid.MustParse(f.private.ID)
		// Two sales: Shazia 180 and Rukhsana 60 minutes a unit; one unit, then two.
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: pub, Minutes: 180}, ledger.MakerMinutes{ArtisanID: priv, Minutes: 60})
		sell(e, f.group.ID, 2, ledger.MakerMinutes{ArtisanID: pub, Minutes: 180}, ledger.MakerMinutes{ArtisanID: priv, Minutes: 60})
		e.do("POST", "/api/v1/groups/"+f.group.ID+"/payouts", map[string]any{"artisan_id": f.public.ID, "amount": pkr(100000),
			"method": "easypaisa"}, manager, header("Idempotency-Key", "pay-shazia")).wantStatus(t, http.StatusCreated)
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		stranger := e.staff("stranger@ngo.pk", "auditor")

		since := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
		until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339) // after the moment of issue: ends there
		query := "?from=" + url.QueryEscape(since) + "&to=" + url.QueryEscape(until)
		path := "/api/v1/artisans/" + f.public.ID + "/income-statement"

		// Without her consent: 409 to those who may read her, 404 to others.
		e.do("GET", path+query, nil, manager).wantError(t, 409, "consent_required")
		e.do("GET", path+query, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("PATCH", "/api/v1/artisans/"+f.public.ID, map[string]any{"statement_consent": true}, manager).wantStatus(t, 200)

		// Who may have it.
		e.do("GET", path+query, nil).wantError(t, 401, "unauthorized")
		e.do("GET", path+query, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path+query, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", path+query, nil, bearer(stranger.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/groups/"+f.group.ID+"/income-statement"+query, nil, bearer(stranger.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/artisans/"+uuid.NewString()+"/income-statement", nil, manager).wantError(t, 404, "not_found")
		e.do("GET", path+"?from=yesterday", nil, manager).wantError(t, 400, "bad_request")
		e.do("GET", path+"?format=pdf", nil, manager).wantError(t, 400, "bad_request")
		e.do("GET", path+"?from=2020-01-01T00:00:00Z&to=2024-01-01T00:00:00Z", nil, manager).wantError(t, 422, "validation_failed")
		e.do("GET", path+"?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", nil, manager).wantError(t, 422, "validation_failed")
		for _, who := range []session{f.manager, f.auditor, f.admin} {
			e.do("GET", path+query, nil, bearer(who.AccessToken)).wantStatus(t, http.StatusOK)
		}

		// The figures. Each sale line's goods are 300000 a unit, hers 3/4 by
		// minutes; her labour is 75000 a unit; she was paid 100000.
		var doc incomeDoc
		res := e.do("GET", path+query, nil, bearer(f.auditor.AccessToken))
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &doc)
		st := doc.statement()
		totals := st["totals"].(map[string]any)
		amount := func(m any) float64 { return m.(map[string]any)["amount"].(float64) }
		if amount(totals["sales"]) != 675000 || amount(totals["earned"]) != 225000 || amount(totals["paid"]) != 100000 ||
			totals["hours"].(float64) != 9 {
			t.Fatalf("totals %v", totals)
		}
		months := st["months"].([]any)
		if len(months) < 1 || len(months) > 2 {
			t.Fatalf("months %v", months)
		}
		var sum float64
		for _, m := range months {
			sum += amount(m.(map[string]any)["earned"])
		}
		sub := st["subject"].(map[string]any)
		if sum != 225000 || sub["kind"] != "artisan" || sub["name"] != "Shazia Secret-Surname" || sub["province"] != "punjab" ||
			sub["group"].(map[string]any)["id"] != f.group.ID {
			t.Fatalf("statement %v", st)
		}
		issued, _ := time.Parse(time.RFC3339, st["issued_at"].(string))
		periodTo, _ := time.Parse(time.RFC3339, st["period"].(map[string]any)["to"].(string))
		if !periodTo.Equal(issued) {
			t.Errorf("a to after the moment of issue: the period ends %v, issued %v", periodTo, issued)
		}
		sig := doc["signature"].(map[string]any)
		if sig["alg"] != "Ed25519" || !strings.HasPrefix(sig["key_id"].(string), "ed25519:") {
			t.Fatalf("signature %v", sig)
		}

		// It verifies, without a login, however its JSON is spelt.
		if c := e.checkStatement(doc); !c.Valid || c.Reason != nil {
			t.Fatalf("the statement as issued: %+v", c)
		}
		raw, _ := json.MarshalIndent(doc, "", "    ")
		if c := e.checkStatement(rawBody(strings.Replace(string(raw), `"hours": 9`, `"hours": 9.00`, 1))); !c.Valid {
			t.Fatalf("9.00 hours for 9: %+v", c)
		}

		// One figure, name, date or month changed: not valid.
		changes := map[string]func(st map[string]any){
			"a month's earnings": func(st map[string]any) {
				m := st["months"].([]any)[0].(map[string]any)["earned"].(map[string]any)
				m["amount"] = m["amount"].(float64) + 1
			},
			"the total paid":   func(st map[string]any) { st["totals"].(map[string]any)["paid"].(map[string]any)["amount"] = 1000000.0 },
			"the hours":        func(st map[string]any) { st["totals"].(map[string]any)["hours"] = 90.0 },
			"the currency":     func(st map[string]any) { st["totals"].(map[string]any)["sales"].(map[string]any)["currency"] = "USD" },
			"the name":         func(st map[string]any) { st["subject"].(map[string]any)["name"] = "Someone Else" },
			"the period":       func(st map[string]any) { st["period"].(map[string]any)["from"] = "2020-01-01T00:00:00Z" },
			"the issue date":   func(st map[string]any) { st["issued_at"] = "2030-01-01T00:00:00Z" },
			"a month dropped":  func(st map[string]any) { st["months"] = []any{} },
			"the subject kind": func(st map[string]any) { st["subject"].(map[string]any)["kind"] = "group" },
		}
		for name, change := range changes {
			bad := doc.clone(t)
			change(bad.statement())
			if c := e.checkStatement(bad); c.Valid || c.Reason == nil || *c.Reason == "" {
				t.Errorf("%s changed: %+v", name, c)
			}
		}
		for name, change := range map[string]func(sig map[string]any){
			"another key id":    func(sig map[string]any) { sig["key_id"] = "ed25519:0000000000000000" },
			"another alg":       func(sig map[string]any) { sig["alg"] = "RS256" },
			"not base64":        func(sig map[string]any) { sig["value"] = "%%%" },
			"another signature": func(sig map[string]any) { sig["value"] = strings.Repeat("A", 86) + "==" },
		} {
			bad := doc.clone(t)
			change(bad["signature"].(map[string]any))
			if c := e.checkStatement(bad); c.Valid || c.Reason == nil {
				t.Errorf("%s: %+v", name, c)
			}
		}
		bad := doc.clone(t)
		bad.statement()["extra"] = "field"
		e.do("POST", "/api/v1/statements/verify", bad).wantError(t, 400, "bad_request")
		e.do("POST", "/api/v1/statements/verify", rawBody("not json")).wantError(t, 400, "bad_request")

		// The group's statement: the whole group's figures.
		var gdoc incomeDoc
		res = e.do("GET", "/api/v1/groups/"+f.group.ID+"/income-statement"+query, nil, manager)
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &gdoc)
		gt := gdoc.statement()["totals"].(map[string]any)
		if amount(gt["sales"]) != 900000 || amount(gt["earned"]) != 300000 || amount(gt["paid"]) != 100000 || gt["hours"].(float64) != 12 {
			t.Fatalf("group totals %v", gt)
		}
		if c := e.checkStatement(gdoc); !c.Valid {
			t.Fatalf("the group's statement: %+v", c)
		}
		e.do("GET", "/api/v1/groups/"+f.group.ID+"/income-statement", nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")

		// Consent withdrawn: no more statements.
		e.do("PATCH", "/api/v1/artisans/"+f.public.ID, map[string]any{"statement_consent": false}, manager).wantStatus(t, 200)
		e.do("GET", path+query, nil, manager).wantError(t, 409, "consent_required")
		// A statement issued before still verifies: it was true when issued.
		if c := e.checkStatement(doc); !c.Valid {
			t.Fatalf("after withdrawal: %+v", c)
		}
	})
}

// The default period is the 12 whole months (Pakistan's time) before the
// current one: twelve rows, the first on the first of a month.
func TestIncomeStatementDefaultPeriod(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		var doc incomeDoc
		res := e.do("GET", "/api/v1/groups/"+f.group.ID+"/income-statement", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &doc)
		st := doc.statement()
		months := st["months"].([]any)
		if len(months) != 12 {
			t.Fatalf("%d months", len(months))
		}
		pkt := time.FixedZone("PKT", 5*3600)
		now := time.Now().In(pkt)
		start, _ := time.Parse(time.RFC3339, st["period"].(map[string]any)["from"].(string))
		end, _ := time.Parse(time.RFC3339, st["period"].(map[string]any)["to"].(string))
		if !end.Equal(time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, pkt)) || !start.Equal(end.In(pkt).AddDate(0, -12, 0)) {
			t.Fatalf("period %v to %v", start, end)
		}
		if months[11].(map[string]any)["month"] != end.In(pkt).AddDate(0, -1, 0).Format("2006-01") {
			t.Fatalf("last month %v", months[11])
		}
	})
}

// The printable page: English and Urdu, rupees, Pakistan's dates, the
// signature, its own style allowed by hash and nothing else.
func TestIncomeStatementPage(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		manager := bearer(f.manager.AccessToken)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 240})
		e.do("PATCH", "/api/v1/artisans/"+f.public.ID, map[string]any{"statement_consent": true}, manager).wantStatus(t, 200)
		since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		res := e.do("GET", "/api/v1/artisans/"+f.public.ID+"/income-statement?format=html&from="+url.QueryEscape(since), nil, manager)
		res.wantStatus(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("Content-Type %q", ct)
		}
		page := strings.ReplaceAll(string(res.Body), "\u00a0", " ")
		month := time.Now().In(time.FixedZone("PKT", 5*3600)).Format("January 2006")
		for _, want := range []string{"Income statement", "آمدنی کا گوشوارہ", "Shazia Secret-Surname", "Multan Blue Pottery Women",
			"Rs 1,000.00", "Rs 3,000.00", "4.00", month, "(Pakistan time)", "Ed25519", "ed25519:", "/api/v1/statements/verify",
			`lang="ur"`, "کمائی", "ادائیگی"} {
			if !strings.Contains(page, want) {
				t.Errorf("the page does not show %q", want)
			}
		}
		if strings.Contains(strings.ToLower(page), "<script") {
			t.Error("the page has a script")
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'sha256-") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("policy %q", csp)
		}
	})
}

// Verification needs no login and is limited per client address, as the
// other public routes are.
func TestStatementVerificationIsRateLimited(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for i := range 10 {
			if c := e.checkStatement(map[string]any{}, from("203.0.113.9")); c.Valid {
				t.Fatalf("request %d: an empty document is valid", i)
			}
		}
		res := e.do("POST", "/api/v1/statements/verify", map[string]any{}, from("203.0.113.9"))
		res.wantError(t, 429, "rate_limited")
		if res.Header.Get("Retry-After") == "" || !strings.Contains(res.Header.Get("RateLimit-Policy"), `"statement-verify";q=10;w=60`) {
			t.Errorf("headers %v", res.Header)
		}
		// Another address is not held back.
		if c := e.checkStatement(map[string]any{}, from("198.51.100.7")); c.Valid {
			t.Fatal("valid")
		}
	})
}
