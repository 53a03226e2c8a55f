package api_test

import (
	"bytes"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/piidata"
)

// piiArtisanBody is the private view of an artisan with her SMS fields.
type piiArtisanBody struct {
	artisanBody
	SMSConsent bool   `json:"sms_consent"`
	Language   string `json:"language"`
}

// piiLogSink is a log sink the server's goroutines may write to at once.
type piiLogSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *piiLogSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *piiLogSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// withPIILog sends the server's and the services' log, at debug level, to w.
func withPIILog(w io.Writer) envOption {
	return func(c envConfig) {
		l := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.wiring.Logger, c.api.Logger = l, l
	}
}

func TestArtisanSMSConsentAndLanguage(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		manager := e.register("manager@example.pk", "producer")
		admin := e.staff("admin@karigar.pk", "admin")
		g := e.newGroup(manager, "Hala Ajrak Women", "Matiari", "sindh")
		e.verify(admin, g.ID)
		artisans := "/api/v1/groups/" + g.ID + "/artisans"

		t.Run("defaults", func(t *testing.T) {
			var a piiArtisanBody
			res := e.do("POST", artisans, map[string]any{"display_name": "Zainab", "full_name": "Zainab Memon", "district": "Matiari"},
				bearer(manager.AccessToken))
			res.wantStatus(t, http.StatusCreated)
			res.decode(t, &a)
			if a.SMSConsent || a.Language != "ur" {
				t.Fatalf("defaults: consent %v, language %q", a.SMSConsent, a.Language)
			}
		})
		var consenting piiArtisanBody
		t.Run("create with consent", func(t *testing.T) {
			res := e.do("POST", artisans, map[string]any{"display_name": "Mai", "full_name": "Mai Bhagi", "district": "Matiari",
				"phone": "(0300) 765-4321", "sms_consent": true, "language": "roman_ur"}, bearer(manager.AccessToken))
			res.wantStatus(t, http.StatusCreated)
			res.decode(t, &consenting)
			if !consenting.SMSConsent || consenting.Language != "roman_ur" || consenting.Phone == nil || *consenting.Phone != "+923007654321" {
				t.Fatalf("artisan %+v (phone %v)", consenting, consenting.Phone)
			}
			// The list shows what the answer showed.
			var l listBody[piiArtisanBody]
			e.do("GET", artisans, nil, bearer(manager.AccessToken)).decode(t, &l)
			if len(l.Data) != 2 || !l.Data[1].SMSConsent || l.Data[1].Language != "roman_ur" || *l.Data[1].Phone != "+923007654321" {
				t.Fatalf("list %+v", l.Data)
			}
		})
		t.Run("create422", func(t *testing.T) {
			before := e.count("artisans", "")
			for field, b := range map[string]map[string]any{
				"language":    {"language": "urdu"},
				"sms_consent": {"sms_consent": true},
				"phone":       {"phone": "12345", "sms_consent": true},
			} {
				b["display_name"], b["full_name"], b["district"] = "X", "Y", "Z"
				er := e.do("POST", artisans, b, bearer(manager.AccessToken)).wantError(t, http.StatusUnprocessableEntity, "validation_failed")
				if er.Error.Fields[field] == "" {
					t.Errorf("%s: fields %v", field, er.Error.Fields)
				}
			}
			// Wrong JSON types are the binder's 400.
			e.do("POST", artisans, map[string]any{"display_name": "X", "full_name": "Y", "district": "Z", "sms_consent": "yes"},
				bearer(manager.AccessToken)).wantError(t, http.StatusBadRequest, "bad_request")
			if e.count("artisans", "") != before {
				t.Fatal("a refused artisan was written")
			}
		})
		t.Run("patch", func(t *testing.T) {
			path := "/api/v1/artisans/" + consenting.ID
			// Her phone cannot go while she consents; nor can a bad language come.
			er := e.do("PATCH", path, map[string]any{"phone": nil}, bearer(manager.AccessToken)).
				wantError(t, http.StatusUnprocessableEntity, "validation_failed")
			if er.Error.Fields["sms_consent"] == "" {
				t.Fatalf("fields %v", er.Error.Fields)
			}
			e.do("PATCH", path, map[string]any{"language": "fr"}, bearer(manager.AccessToken)).
				wantError(t, http.StatusUnprocessableEntity, "validation_failed")
			var a piiArtisanBody
			res := e.do("PATCH", path, map[string]any{"language": "en"}, bearer(manager.AccessToken))
			res.wantStatus(t, http.StatusOK)
			res.decode(t, &a)
			if a.Language != "en" || !a.SMSConsent || *a.Phone != "+923007654321" {
				t.Fatalf("after language: %+v", a)
			}
			// Withdrawing consent and the phone together is fine.
			res = e.do("PATCH", path, map[string]any{"phone": nil, "sms_consent": false}, bearer(manager.AccessToken))
			res.wantStatus(t, http.StatusOK)
			res.decode(t, &a)
			if a.SMSConsent || a.Phone != nil || a.Language != "en" {
				t.Fatalf("after withdrawing: %+v", a)
			}
			var row models.Artisan
			if err := e.db.First(&row, "id = ?", a.ID).Error; err != nil {
				t.Fatal(err)
			}
			if row.PhoneSealed != nil || row.PhoneLookup != nil || row.SMSConsent || row.Language != "en" {
				t.Fatalf("row after withdrawing: %+v", row)
			}
			// Consent again, with a number written the Urdu way.
			res = e.do("PATCH", path, map[string]any{"phone": "۰۳۰۰۷۶۵۴۳۲۱", "sms_consent": true}, bearer(manager.AccessToken))
			res.wantStatus(t, http.StatusOK)
			res.decode(t, &a)
			if !a.SMSConsent || a.Phone == nil || *a.Phone != "+923007654321" {
				t.Fatalf("after consenting again: %+v", a)
			}
		})
	})
}

// piiPhoneForms are the ways a Pakistani mobile number written nationally
// ("03001234567") may appear: as typed, in E.164, with and without the
// country code, grouped.
func piiPhoneForms(national string) []string {
	rest := national[1:]
	return []string{national, rest, "92" + rest, "+92" + rest, national[:4] + "-" + national[4:], national[:4] + " " + national[4:],
		"+92 " + rest[:3] + " " + rest[3:], rest[:3] + " " + rest[3:]}
}

// TestDatabaseDumpHoldsNoPhoneNumbers is issue 17's "a database dump holds
// no phone number in clear text": artisans with phones and CNICs, one
// registered with an Idempotency-Key (whose answer is stored for replay),
// one whose phone is changed, and an order with a shipping phone, all through
// the API; then the whole database (pg_dump of the test's schema, or the
// SQLite file with its write-ahead log) and the server's log hold none of
// them in any form, while the API still shows them to those who may see them.
func TestDatabaseDumpHoldsNoPhoneNumbers(t *testing.T) {
	logs := &piiLogSink{}
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e) // two artisans with phone 03009998887
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		artisans := "/api/v1/groups/" + f.group.ID + "/artisans"
		var sakina, noor piiArtisanBody
		create := map[string]any{"display_name": "Sakina", "full_name": "Sakina Bibi", "district": "Multan",
			"phone": "0300-1234567", "cnic": "3520286753091", "sms_consent": true}
		res := e.do("POST", artisans, create, bearer(f.manager.AccessToken), header("Idempotency-Key", "sakina-1"))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &sakina)
		first := res.Body
		// The replay comes from the stored (sealed) answer, byte for byte.
		res = e.do("POST", artisans, create, bearer(f.manager.AccessToken), header("Idempotency-Key", "sakina-1"))
		res.wantStatus(t, http.StatusCreated)
		if res.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(res.Body, first) {
			t.Fatalf("replay: %s %s", res.Header.Get("Idempotent-Replayed"), res.Body)
		}
		res = e.do("POST", artisans, map[string]any{"display_name": "Noor", "full_name": "Noor Jahan", "district": "Multan",
			"phone": "+92 321 5550147", "cnic": "61101-4455667-2"}, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &noor)
		res = e.do("PATCH", "/api/v1/artisans/"+noor.ID, map[string]any{"phone": "0333 8889990"}, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		// Refused requests with numbers in them: a CNIC taken, a phone that is no phone.
		e.do("POST", artisans, map[string]any{"display_name": "Dup", "full_name": "Dup", "district": "Multan", "cnic": "35202-8675309-1"},
			bearer(f.manager.AccessToken)).wantError(t, http.StatusConflict, "conflict")
		e.do("POST", artisans, map[string]any{"display_name": "Bad", "full_name": "Bad", "district": "Multan", "phone": "0300-1234567x"},
			bearer(f.manager.AccessToken)).wantError(t, http.StatusUnprocessableEntity, "validation_failed")

		p := e.newProduct(f, f.product("Blue pottery bowl", "pottery", 300000), true)
		shipTo := map[string]any{"name": "Ayesha Siddiqa", "line1": "House 47, Street 19, F-7/2", "city": "Islamabad",
			"country": "PK", "phone": "0345 2223334"}
		var placed struct {
			ID              string            `json:"id"`
			ShippingAddress map[string]string `json:"shipping_address"`
		}
		res = e.do("POST", "/api/v1/orders", map[string]any{"items": []any{item(p.ID, 1)}, "shipping_address": shipTo,
			"payment_method": "cash_on_delivery"}, bearer(f.buyer.AccessToken), header("Idempotency-Key", "order-1"))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &placed)

		// Those who may see the numbers still do, opened.
		for _, who := range []session{f.manager, f.auditor, f.admin} {
			var l listBody[piiArtisanBody]
			e.do("GET", artisans, nil, bearer(who.AccessToken)).decode(t, &l)
			got := map[string]string{}
			for _, a := range l.Data {
				if a.Phone != nil {
					got[a.DisplayName] = *a.Phone
				}
				if a.CNIC != nil {
					got[a.DisplayName+" cnic"] = *a.CNIC
				}
			}
			if got["Sakina"] != "+923001234567" || got["Noor"] != "+923338889990" || got["Sakina cnic"] != "35202-8675309-1" ||
				got["Noor cnic"] != "61101-4455667-2" || got["Shazia"] != "+923009998887" {
				t.Fatalf("%s sees %v", who.User.Role, got)
			}
		}
		for _, who := range []session{f.buyer, f.manager, f.admin} {
			var o struct {
				ShippingAddress map[string]string `json:"shipping_address"`
			}
			e.do("GET", "/api/v1/orders/"+placed.ID, nil, bearer(who.AccessToken)).decode(t, &o)
			if o.ShippingAddress["phone"] != "0345 2223334" || o.ShippingAddress["line1"] != "House 47, Street 19, F-7/2" {
				t.Fatalf("%s sees the address %v", who.User.Role, o.ShippingAddress)
			}
		}
		var groupOrders listBody[struct {
			ShippingAddress map[string]string `json:"shipping_address"`
		}]
		e.do("GET", "/api/v1/groups/"+f.group.ID+"/orders", nil, bearer(f.manager.AccessToken)).decode(t, &groupOrders)
		if len(groupOrders.Data) != 1 || groupOrders.Data[0].ShippingAddress["name"] != "Ayesha Siddiqa" {
			t.Fatalf("the group's orders: %+v", groupOrders.Data)
		}

		secrets := []string{"35202-8675309-1", "3520286753091", "35202-8675309", "61101-4455667-2", "6110144556672",
			"House 47, Street 19", "Ayesha Siddiqa"}
		for _, n := range []string{"03001234567", "03215550147", "03338889990", "03452223334", "03009998887"} {
			secrets = append(secrets, piiPhoneForms(n)...)
		}
		dump, how := dumpPIIDatabase(t, e)
		t.Logf("%s: %d bytes", how, len(dump))
		if !bytes.Contains(dump, []byte("Sakina Bibi")) {
			t.Fatalf("the %s does not hold the artisans at all: the test would prove nothing", how)
		}
		lowerDump := bytes.ToLower(dump)
		for _, s := range secrets {
			// In clear, or in hex (how a dump writes bytea, such as a stored answer).
			if bytes.Contains(dump, []byte(s)) || bytes.Contains(lowerDump, []byte(hex.EncodeToString([]byte(s)))) {
				t.Errorf("the %s holds %q", how, s)
			}
		}
		for _, s := range secrets {
			if strings.Contains(logs.String(), s) {
				t.Errorf("the log holds %q", s)
			}
		}
	}, withPIILog(logs))
	if !strings.Contains(logs.String(), `"route":"/api/v1/groups/:id/artisans"`) {
		t.Fatalf("the log did not record the requests: the test would prove nothing:\n%.2000s", logs.String())
	}
}

// dumpPIIDatabase is all the database holds: pg_dump of the test's schema when
// pg_dump is installed, else the text of every row of every table; for
// SQLite the database file and its write-ahead log, byte for byte.
func dumpPIIDatabase(t *testing.T, e *env) ([]byte, string) {
	t.Helper()
	if models.DialectOf(e.db) == models.SQLite {
		var files []struct {
			Seq  int
			Name string
			File string
		}
		if err := e.db.Raw("PRAGMA database_list").Scan(&files).Error; err != nil || len(files) == 0 || files[0].File == "" {
			t.Fatalf("database file: %v %v", files, err)
		}
		var all []byte
		for _, suffix := range []string{"", "-wal", "-journal"} {
			b, err := os.ReadFile(files[0].File + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all, "SQLite file and WAL"
	}
	var schema string
	if err := e.db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	if path, err := exec.LookPath("pg_dump"); err == nil {
		out, err := exec.Command(path, "--no-owner", "--schema="+schema, os.Getenv(modelstest.EnvPostgres)).Output()
		if err != nil {
			t.Fatalf("pg_dump: %v", err)
		}
		return out, "pg_dump"
	}
	var tables []string
	if err := e.db.Raw("SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", schema).
		Scan(&tables).Error; err != nil || len(tables) == 0 {
		t.Fatalf("tables: %v %v", tables, err)
	}
	var all []byte
	for _, table := range tables {
		var rows []string
		if err := e.db.Raw(`SELECT CAST(t AS text) FROM "` + table + `" t`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		all = append(all, strings.Join(rows, "\n")...)
	}
	return all, "text of every row"
}

// TestClearPersonalDataIsSealed: rows that a binary older than sealing
// wrote (the phone and CNIC in the clear columns, the address and the stored
// answer in clear) read right before the data step, are sealed by it in
// batches, read the same afterwards, and a second run, or two at once, seal
// each value once.
func TestClearPersonalDataIsSealed(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		artisans := "/api/v1/groups/" + f.group.ID + "/artisans"
		var gul piiArtisanBody
		res := e.do("POST", artisans, map[string]any{"display_name": "Gul", "full_name": "Gul Bano", "district": "Multan",
			"phone": "0300 1112223", "cnic": "52203-7654321-2"}, bearer(f.manager.AccessToken), header("Idempotency-Key", "gul"))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &gul)
		stored := res.Body
		p := e.newProduct(f, f.product("Blue pottery plate", "pottery", 300000), true)
		var placed struct {
			ID string `json:"id"`
		}
		res = e.do("POST", "/api/v1/orders", map[string]any{"items": []any{item(p.ID, 1)}, "shipping_address": address,
			"payment_method": "cash_on_delivery"}, bearer(f.buyer.AccessToken), header("Idempotency-Key", "order"))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &placed)
		storedOrder := res.Body

		// What an older binary left: clear columns, a clear address, a clear stored answer.
		asOlderBinaryWrote := func() {
			t.Helper()
			for id, v := range map[string][2]any{gul.ID: {"0300 1112223", "52203-7654321-2"}, f.public.ID: {"+92 300 9998887", nil},
				f.private.ID: {"03009998887", nil}} {
				if err := e.db.Exec(`UPDATE artisans SET phone = ?, cnic = ?, phone_sealed = NULL, phone_lookup = NULL,
					cnic_sealed = NULL, cnic_lookup = NULL WHERE id = ?`, v[0], v[1], id).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := e.db.Exec(`UPDATE orders SET shipping_address = ? WHERE id = ?`,
				`{"name":"Ayesha Khan","line1":"House 12, Street 4","city":"Lahore","country":"PK","phone":"+92 300 1234567"}`, placed.ID).Error; err != nil {
				t.Fatal(err)
			}
			for key, body := range map[string][]byte{"gul": stored, "order": storedOrder} {
				if err := e.db.Exec(`UPDATE idempotency_keys SET response_body = ? WHERE key = ?`, body, key).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
		readsRight := func(when string) {
			t.Helper()
			var l listBody[piiArtisanBody]
			e.do("GET", artisans, nil, bearer(f.manager.AccessToken)).decode(t, &l)
			for _, a := range l.Data {
				want := map[string]string{"Gul": "+923001112223", "Shazia": "+923009998887", "Rukhsana": "+923009998887"}[a.DisplayName]
				if a.Phone == nil || *a.Phone != want {
					t.Fatalf("%s: %s's phone %v, want %s", when, a.DisplayName, a.Phone, want)
				}
				if a.DisplayName == "Gul" && (a.CNIC == nil || *a.CNIC != "52203-7654321-2") {
					t.Fatalf("%s: Gul's CNIC %v", when, a.CNIC)
				}
			}
			var o struct {
				ShippingAddress map[string]string `json:"shipping_address"`
			}
			e.do("GET", "/api/v1/orders/"+placed.ID, nil, bearer(f.buyer.AccessToken)).decode(t, &o)
			if o.ShippingAddress["phone"] != "+92 300 1234567" || o.ShippingAddress["line1"] != "House 12, Street 4" {
				t.Fatalf("%s: the address %v", when, o.ShippingAddress)
			}
			res := e.do("POST", artisans, map[string]any{"display_name": "Gul", "full_name": "Gul Bano", "district": "Multan",
				"phone": "0300 1112223", "cnic": "52203-7654321-2"}, bearer(f.manager.AccessToken), header("Idempotency-Key", "gul"))
			if res.Code != http.StatusCreated || !bytes.Equal(res.Body, stored) {
				t.Fatalf("%s: the replay %d %s", when, res.Code, res.Body)
			}
		}
		clear := func() int64 {
			t.Helper()
			var bodies [][]byte
			if err := e.db.Table("idempotency_keys").Where("response_body IS NOT NULL").Pluck("response_body", &bodies).Error; err != nil {
				t.Fatal(err)
			}
			n := e.count("artisans", "phone IS NOT NULL OR cnic IS NOT NULL") + e.count("orders", "shipping_address NOT LIKE 'pii1.%'")
			for _, b := range bodies {
				if !pii.IsSealed(string(b)) {
					n++
				}
			}
			return n
		}
		done := func(results []piidata.Result) map[string]int {
			out := map[string]int{}
			for _, r := range results {
				out[r.Column] += r.Done
				if len(r.Failed) > 0 {
					t.Errorf("%s failed: %v", r.Column, r.Failed)
				}
			}
			return out
		}
		want := map[string]int{"artisans.phone_sealed": 3, "artisans.cnic_sealed": 1, "orders.shipping_address": 1,
			"idempotency_keys.response_body": 2}
		sealedRight := func() {
			t.Helper()
			if n := clear(); n != 0 {
				t.Fatalf("%d values are still in clear", n)
			}
			var row models.Artisan
			if err := e.db.First(&row, "id = ?", gul.ID).Error; err != nil {
				t.Fatal(err)
			}
			if row.PhoneLookup == nil || *row.PhoneLookup != testPII.Lookup("03001112223") || row.CNICLookup == nil ||
				*row.CNICLookup != testPII.LookupText("52203-7654321-2") || !testPII.SealedUnderCurrent(*row.PhoneSealed) {
				t.Fatalf("Gul's row: %+v", row)
			}
		}

		asOlderBinaryWrote()
		if n := clear(); n != 6 {
			t.Fatalf("%d clear values, want 6", n)
		}
		readsRight("before the data step")
		results, err := piidata.SealClear(t.Context(), e.db, testPII, piidata.Options{Batch: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := done(results); !sameCounts(got, want) {
			t.Fatalf("sealed %v, want %v", got, want)
		}
		sealedRight()
		readsRight("after the data step")
		results, err = piidata.SealClear(t.Context(), e.db, testPII, piidata.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := done(results); !sameCounts(got, map[string]int{"artisans.phone_sealed": 0, "artisans.cnic_sealed": 0,
			"orders.shipping_address": 0, "idempotency_keys.response_body": 0}) {
			t.Fatalf("a second run sealed %v", got)
		}

		// Two replicas starting together: each value is sealed by one of them.
		asOlderBinaryWrote()
		var runs [2][]piidata.Result
		inParallel(2, func(i int) {
			r, err := piidata.SealClear(t.Context(), e.db, testPII, piidata.Options{Batch: 1})
			if err != nil {
				t.Error(err)
			}
			runs[i] = r
		})
		total := done(append(runs[0], runs[1]...))
		if !sameCounts(total, want) {
			t.Fatalf("two runs sealed %v together, want %v", total, want)
		}
		sealedRight()
		readsRight("after two runs at once")

		// A write through this binary seals what it finds in clear.
		asOlderBinaryWrote()
		e.do("PATCH", "/api/v1/artisans/"+gul.ID, map[string]any{"district": "Khanewal"}, bearer(f.manager.AccessToken)).wantStatus(t, 200)
		if n := e.count("artisans", "id = ? AND (phone IS NOT NULL OR cnic IS NOT NULL OR phone_sealed IS NULL)", gul.ID); n != 0 {
			t.Fatal("the patched row kept its clear values")
		}

		// A clear CNIC that another artisan of the group now holds sealed is left
		// (and named), not sealed into a second copy or failing the step.
		var dup piiArtisanBody
		e.do("POST", artisans, map[string]any{"display_name": "Dup", "full_name": "Dup", "district": "Multan"},
			bearer(f.manager.AccessToken)).decode(t, &dup)
		if err := e.db.Exec(`UPDATE artisans SET cnic = ? WHERE id = ?`, "52203-7654321-2", dup.ID).Error; err != nil {
			t.Fatal(err)
		}
		results, err = piidata.SealClear(t.Context(), e.db, testPII, piidata.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if (r.Column == "artisans.cnic_sealed") != (len(r.Failed) == 1 && r.Failed[0] == dup.ID) {
				t.Fatalf("%s: failed %v", r.Column, r.Failed)
			}
		}
		// Her manager sees it as it is, and a new registration of it is refused.
		var l listBody[piiArtisanBody]
		e.do("GET", artisans, nil, bearer(f.manager.AccessToken)).decode(t, &l)
		if last := l.Data[len(l.Data)-1]; last.ID != dup.ID || last.CNIC == nil || *last.CNIC != "52203-7654321-2" {
			t.Fatalf("the left artisan reads %+v", last)
		}
		e.do("POST", artisans, map[string]any{"display_name": "Third", "full_name": "Third", "district": "Multan", "cnic": "5220376543212"},
			bearer(f.manager.AccessToken)).wantError(t, http.StatusConflict, "conflict")
	})
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
