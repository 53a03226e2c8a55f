package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/piidata"
	"github.com/karigar/karigar/services/seed"
	"github.com/karigar/karigar/services/sms"
)

func piiKeyText(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, pii.KeySize))
}

func TestConfigPIIKeys(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig(envOf(map[string]string{"KARIGAR_DATABASE_URL": "sqlite://" + dir + "/dev.db?_pragma=x"}))
	if err != nil || cfg.PIIKeyFile != dir+"/dev.db.pii-key" || cfg.PIIKey != nil || cfg.PIIDevelopmentKey {
		t.Fatalf("development on SQLite: key file %q, %v", cfg.PIIKeyFile, err)
	}
	if cfg, err := loadConfig(envOf(nil)); err != nil || cfg.PIIKeyFile != "karigar.db.pii-key" {
		t.Fatalf("the zero-setup default: key file %q, %v", cfg.PIIKeyFile, err)
	}
	if cfg, err := loadConfig(envOf(map[string]string{"KARIGAR_DATABASE_URL": "postgres://localhost/k"})); err != nil ||
		!cfg.PIIDevelopmentKey || cfg.PIIKeyFile != "" {
		t.Fatalf("development on PostgreSQL: %+v, %v", cfg, err)
	}
	cfg, err = loadConfig(envOf(map[string]string{"KARIGAR_PII_KEY": piiKeyText(2),
		"KARIGAR_PII_PREVIOUS_KEYS": piiKeyText(1) + ", development , " + strings.Repeat("ab", 32)}))
	if err != nil || len(cfg.PIIPreviousKeys) != 3 || !bytes.Equal(cfg.PIIPreviousKeys[1], developmentPIIKey) {
		t.Fatalf("previous keys: %d, %v", len(cfg.PIIPreviousKeys), err)
	}
	if _, err := loadConfig(envOf(map[string]string{"KARIGAR_PII_PREVIOUS_KEYS": piiKeyText(1)})); err == nil ||
		!strings.Contains(err.Error(), "KARIGAR_PII_PREVIOUS_KEYS: is set but KARIGAR_PII_KEY is not") {
		t.Fatalf("previous keys without a key: %v", err)
	}
	secret := "not-a-key-but-a-secret-phrase"
	_, err = loadConfig(envOf(map[string]string{"KARIGAR_PII_KEY": piiKeyText(2), "KARIGAR_PII_PREVIOUS_KEYS": piiKeyText(1) + "," + secret}))
	if err == nil || !strings.Contains(err.Error(), "key 2 of 2 must be 32 bytes") || strings.Contains(err.Error(), secret) {
		t.Fatalf("a bad previous key: %v", err)
	}
	// Production may rotate too.
	env := productionEnv()
	env["KARIGAR_PII_PREVIOUS_KEYS"] = piiKeyText(1)
	if cfg, err := loadConfig(envOf(env)); err != nil || len(cfg.PIIPreviousKeys) != 1 {
		t.Fatalf("production with a previous key: %v", err)
	}
}

// Without KARIGAR_PII_KEY, development on SQLite makes a random key in a
// file beside the database (0600), warns, and finds the same key at every
// start; two processes starting together agree on one.
func TestDevelopmentKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := envOf(map[string]string{"KARIGAR_DATABASE_URL": "sqlite://" + dir + "/karigar.db"})
	boxes := make([]*pii.Box, 4)
	var logs [4]bytes.Buffer
	var wg sync.WaitGroup
	for i := range boxes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, err := loadConfig(env)
			if err != nil {
				t.Error(err)
				return
			}
			if err := cfg.unlockPII(slog.New(slog.NewJSONHandler(&logs[i], nil))); err != nil {
				t.Error(err)
				return
			}
			boxes[i] = cfg.PII
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, b := range boxes {
		if b.KeyID() != boxes[0].KeyID() {
			t.Fatalf("process %d has key %s, process 0 %s", i, b.KeyID(), boxes[0].KeyID())
		}
		if !strings.Contains(logs[i].String(), `"level":"WARN"`) || !strings.Contains(logs[i].String(), dir+"/karigar.db.pii-key") {
			t.Fatalf("no warning naming the key file: %s", logs[i].String())
		}
	}
	info, err := os.Stat(dir + "/karigar.db.pii-key")
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	leftovers, _ := filepath.Glob(dir + "/.pii-key-*")
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
	// A damaged key file is an error, never a new key over the data.
	if err := os.WriteFile(dir+"/karigar.db.pii-key", []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _ := loadConfig(env)
	if err := cfg.unlockPII(slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "karigar.db.pii-key") {
		t.Fatalf("a damaged key file: %v", err)
	}
}

// piiFixture is what the personal-data command tests write through the
// services: artisans with phone numbers and CNICs, an order with a shipping
// address, a stored idempotent answer, an SMS in the outbox.
type piiFixture struct {
	artisans map[uuid.UUID][2]string // phone (E.164), CNIC
	groupID  uuid.UUID
	manager  services.Actor
	buyer    services.Actor
	orderID  uuid.UUID
	address  orders.Address
}

// piiServices builds the services on url with box, as a server would.
func piiServices(t *testing.T, env func(string) string, box *pii.Box) (*gorm.DB, api.Services) {
	t.Helper()
	cfg, err := loadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PII = box
	db, err := openDB(t.Context(), &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	w := wiring(cfg, slog.New(slog.DiscardHandler))
	w.BcryptCost = bcrypt.MinCost
	svc, err := api.Build(db, w)
	if err != nil {
		t.Fatal(err)
	}
	return db, svc
}

func writePIIFixture(t *testing.T, db *gorm.DB, svc api.Services, box *pii.Box, withOrder bool) piiFixture {
	t.Helper()
	ctx := t.Context()
	sess, err := svc.Auth.Register(ctx, auth.NewUser{Email: "manager@example.pk", Password: "a long password", Name: "M", Role: models.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	f := piiFixture{artisans: map[uuid.UUID][2]string{}, manager: services.Actor{UserID: sess.User.ID, Role: sess.User.Role}}
	name, district, province, method, fund := "Thar Women", "Tharparkar", "sindh", models.ShareByLaborHours, 2000
	g, err := svc.Groups.Create(ctx, f.manager, groups.GroupInput{Name: &name, Description: &name, District: &district, Province: &province,
		ProfitMethod: &method, CollectiveFundBPS: &fund})
	if err != nil {
		t.Fatal(err)
	}
	f.groupID = g.ID
	for i, a := range []struct{ phone, cnic, want string }{
		{"0300 1234567", "41304-1234567-1", "+923001234567"},
		{"+92 321 5550147", "4130476543212", "+923215550147"},
		{"0345-2223334", "", "+923452223334"},
		{"042 3576 1234", "41304-1111111-3", "+924235761234"},
		{"0333 8889990", "41304-2222222-4", "+923338889990"},
	} {
		n := string(rune('A' + i))
		in := groups.ArtisanInput{DisplayName: &n, FullName: &n, District: &district, Phone: &a.phone}
		if a.cnic != "" {
			in.CNIC = &a.cnic
		}
		made, err := svc.Groups.CreateArtisan(ctx, f.manager, g.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		cnic := ""
		if made.CNIC != nil {
			cnic = *made.CNIC
		}
		f.artisans[made.ID] = [2]string{a.want, cnic}
	}
	if _, err := svc.Idempotency.Begin(ctx, f.manager.UserID, "k", piiStoredRequest); err != nil {
		t.Fatal(err)
	}
	if err := svc.Idempotency.Complete(ctx, f.manager.UserID, "k", idempotency.Response{Status: 201, Body: []byte(`{"phone":"+923001234567"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO idempotency_keys (user_id, key, request_hash, status, response_body, created_at, expires_at)
		VALUES (?, 'k2', 'h', 201, ?, ?, ?)`, f.manager.UserID, piiSealedBytes(t, box, `{"phone":"+923001234567"}`), time.Now().UTC(),
		time.Now().UTC().Add(time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	for id, a := range f.artisans {
		sealed, _ := box.Seal(a[0])
		if _, err := sms.Enqueue(db, sms.Outgoing{GroupID: &f.groupID, ArtisanID: &id, Kind: "receipt", ToSealed: sealed,
			ToMasked: pii.Mask(a[0]), Text: "test"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if withOrder {
		if _, err := svc.Catalog.InitFees(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := seed.Demo(ctx, seed.Services{Auth: svc.Auth, Groups: svc.Groups, Catalog: svc.Catalog, Currency: "PKR"}); err != nil {
			t.Fatal(err)
		}
		var buyer models.User
		if err := db.First(&buyer, "email = ?", seed.DemoBuyerEmail).Error; err != nil {
			t.Fatal(err)
		}
		f.buyer = services.Actor{UserID: buyer.ID, Role: buyer.Role}
		var product models.Product
		if err := db.First(&product, "status = ?", "published").Error; err != nil {
			t.Fatal(err)
		}
		f.address = orders.Address{Name: "Ayesha Siddiqa", Line1: "House 47, Street 19, F-7/2", City: "Islamabad", Country: "PK", Phone: "0345 2223334"}
		o, err := svc.Orders.Create(ctx, f.buyer, orders.CreateInput{Items: []orders.Item{{ProductID: product.ID.String(), Quantity: 1}},
			ShippingAddress: f.address, PaymentMethod: models.PayCashOnDelivery})
		if err != nil {
			t.Fatal(err)
		}
		f.orderID = o.ID
	}
	return f
}

// piiStoredRequest is the request whose answer the piiFixture stores.
var piiStoredRequest = idempotency.Request{Method: "POST", Path: "/api/v1/groups/x/artisans", Body: []byte(`{}`)}

func piiSealedBytes(t *testing.T, box *pii.Box, v string) []byte {
	s, err := box.Seal(v)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// readsRight checks that svc (whose box may hold only the current key)
// shows every value of f as it was written.
func (f piiFixture) readsRight(t *testing.T, db *gorm.DB, svc api.Services, box *pii.Box) {
	t.Helper()
	ctx := t.Context()
	list, _, err := svc.Groups.ListArtisans(ctx, f.manager, f.groupID, 100, "")
	if err != nil || len(list) != len(f.artisans) {
		t.Fatalf("artisans: %d, %v", len(list), err)
	}
	for _, a := range list {
		want := f.artisans[a.ID]
		if a.Phone == nil || *a.Phone != want[0] || (want[1] == "") != (a.CNIC == nil) || (a.CNIC != nil && *a.CNIC != want[1]) {
			t.Fatalf("artisan %s reads %v %v, want %v", a.DisplayName, a.Phone, a.CNIC, want)
		}
	}
	if f.orderID != uuid.Nil {
		o, err := svc.Orders.Get(ctx, f.buyer, f.orderID)
		if err != nil || o.Address != f.address {
			t.Fatalf("order: %+v, %v", o.Address, err)
		}
	}
	replay, err := svc.Idempotency.Begin(ctx, f.manager.UserID, "k", piiStoredRequest)
	if err != nil || replay == nil || string(replay.Body) != `{"phone":"+923001234567"}` {
		t.Fatalf("the stored answer replays %+v, %v", replay, err)
	}
	var bodies [][]byte
	if err := db.Table("idempotency_keys").Where("response_body IS NOT NULL").Pluck("response_body", &bodies).Error; err != nil || len(bodies) != 2 {
		t.Fatalf("stored answers: %d, %v", len(bodies), err)
	}
	for _, b := range bodies {
		if plain, err := box.Open(string(b)); err != nil || plain != `{"phone":"+923001234567"}` {
			t.Fatalf("a stored answer opens to %q, %v", plain, err)
		}
	}
	var outbox []models.SMSMessage
	if err := db.Find(&outbox).Error; err != nil || len(outbox) != len(f.artisans) {
		t.Fatalf("outbox: %d, %v", len(outbox), err)
	}
	for _, m := range outbox {
		if to, err := box.Open(m.ToSealed); err != nil || to != f.artisans[*m.ArtisanID][0] {
			t.Fatalf("an SMS is to %q, %v", to, err)
		}
	}
}

// underPIIKey checks that every sealed value of the schema is under box's
// current key and every lookup hash is the current key's.
func underPIIKey(t *testing.T, db *gorm.DB, box *pii.Box) {
	t.Helper()
	for _, c := range piidata.Columns {
		var values []string
		if err := db.Table(c.Table).Where(c.Sealed+" IS NOT NULL").Pluck(c.Sealed, &values).Error; err != nil {
			t.Fatal(err)
		}
		if len(values) == 0 {
			t.Fatalf("%s holds nothing: the test would prove nothing", c.Name())
		}
		for _, v := range values {
			if !box.SealedUnderCurrent(v) {
				t.Fatalf("%s holds a value under key %.14s, not %s", c.Name(), v, box.KeyID())
			}
		}
	}
	var rows []models.Artisan
	if err := db.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.PhoneSealed != nil {
			phone, _ := box.Open(*r.PhoneSealed)
			if r.PhoneLookup == nil || *r.PhoneLookup != box.Lookup(phone) {
				t.Fatalf("artisan %s: a stale phone lookup", r.ID)
			}
		}
		if r.CNICSealed != nil {
			cnic, _ := box.Open(*r.CNICSealed)
			if r.CNICLookup == nil || *r.CNICLookup != box.LookupText(cnic) {
				t.Fatalf("artisan %s: a stale CNIC lookup", r.ID)
			}
		}
	}
}

// karigar migrate seals what an older binary wrote in clear; without
// KARIGAR_PII_KEY, development uses its key file (SQLite) or the published
// development key (PostgreSQL), and what it sealed reads back after a
// restart. On SQLite the file keeps no trace of the clear values.
func TestMigrateSealsClearPersonalData(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			url := modelstest.URL(t, engine)
			env := envOf(map[string]string{"KARIGAR_DATABASE_URL": url, "KARIGAR_JWT_SECRET": strings.Repeat("k", 40)})
			var out bytes.Buffer
			if code := run(t.Context(), []string{"migrate"}, env, &out, &out); code != 0 {
				t.Fatalf("migrate: %d %s", code, out.String())
			}
			want := map[string]string{"sqlite": "key file beside the database", "postgres": "published development key"}[engine]
			if !strings.Contains(out.String(), want) {
				t.Fatalf("no warning about the development key:\n%s", out.String())
			}
			cfg, _ := loadConfig(env)
			if err := cfg.unlockPII(slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			db, svc := piiServices(t, env, cfg.PII)
			f := writePIIFixture(t, db, svc, cfg.PII, false)
			// As a binary older than sealing wrote them.
			for id, a := range f.artisans {
				var cnic any
				if a[1] != "" {
					cnic = a[1]
				}
				if err := db.Exec(`UPDATE artisans SET phone = ?, cnic = ?, phone_sealed = NULL, phone_lookup = NULL, cnic_sealed = NULL,
					cnic_lookup = NULL WHERE id = ?`, "0"+strings.TrimPrefix(a[0], "+92"), cnic, id).Error; err != nil {
					t.Fatal(err)
				}
			}
			_ = models.Close(db)

			out.Reset()
			if code := run(t.Context(), []string{"migrate"}, env, &out, &out); code != 0 {
				t.Fatalf("migrate: %d %s", code, out.String())
			}
			if !strings.Contains(out.String(), `"column":"artisans.phone_sealed","rows":5`) ||
				!strings.Contains(out.String(), `"column":"artisans.cnic_sealed","rows":4`) || strings.Contains(out.String(), "3001234567") {
				t.Fatalf("migrate's log:\n%s", out.String())
			}
			if engine == "sqlite" {
				path := strings.TrimPrefix(url, "sqlite://")
				var file []byte
				for _, suffix := range []string{"", "-wal"} {
					b, _ := os.ReadFile(path + suffix)
					file = append(file, b...)
				}
				for _, s := range []string{"03001234567", "03452223334", "41304-1234567-1", "41304-7654321-2"} {
					if bytes.Contains(file, []byte(s)) {
						t.Errorf("the SQLite file still holds %q after the data step", s)
					}
				}
			}
			// A restart finds the same key and reads everything back.
			cfg, _ = loadConfig(env)
			if err := cfg.unlockPII(slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			db, svc = piiServices(t, env, cfg.PII)
			if n := piiCount(t, db, "artisans", "phone IS NOT NULL OR cnic IS NOT NULL"); n != 0 {
				t.Fatalf("%d artisans keep clear values", n)
			}
			f.readsRight(t, db, svc, cfg.PII)
		})
	}
}

func piiCount(t *testing.T, db *gorm.DB, table, where string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Where(where).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var piiRotatedLine = regexp.MustCompile(`(?m)^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)$`)

// karigar pii rotate-key: with the new key in KARIGAR_PII_KEY and the old in
// KARIGAR_PII_PREVIOUS_KEYS it reseals every sealed column and recomputes
// every lookup hash, in batches, while a server writes; a stopped run is
// finished by the next; afterwards the new key alone reads everything.
func TestPIIRotateKey(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			url := modelstest.URL(t, engine)
			base := map[string]string{"KARIGAR_DATABASE_URL": url, "KARIGAR_JWT_SECRET": strings.Repeat("k", 40)}
			with := func(kv ...string) func(string) string {
				m := map[string]string{}
				for k, v := range base {
					m[k] = v
				}
				for i := 0; i < len(kv); i += 2 {
					m[kv[i]] = kv[i+1]
				}
				return envOf(m)
			}
			oldEnv := with("KARIGAR_PII_KEY", piiKeyText(1))
			oldBox, _ := pii.New(bytes.Repeat([]byte{1}, pii.KeySize))
			newBox, _ := pii.New(bytes.Repeat([]byte{2}, pii.KeySize), bytes.Repeat([]byte{1}, pii.KeySize))
			onlyNew, _ := pii.New(bytes.Repeat([]byte{2}, pii.KeySize))
			db, svc := piiServices(t, oldEnv, oldBox)
			f := writePIIFixture(t, db, svc, oldBox, true)
			f.readsRight(t, db, svc, oldBox)

			var out, errOut bytes.Buffer
			// Refused: no new key; usage.
			if code := run(t.Context(), []string{"pii", "rotate-key"}, with(), &out, &errOut); code != 1 ||
				!strings.Contains(errOut.String(), "needs the new key in KARIGAR_PII_KEY") {
				t.Fatalf("without a key: %d %q", code, errOut.String())
			}
			if code := run(t.Context(), []string{"pii"}, oldEnv, io.Discard, io.Discard); code != 2 {
				t.Fatalf("pii alone exited %d, want 2", code)
			}
			// A new key without the old one opens nothing: it says so, and changes nothing.
			out.Reset()
			errOut.Reset()
			if code := run(t.Context(), []string{"pii", "rotate-key"}, with("KARIGAR_PII_KEY", piiKeyText(3)), &out, &errOut); code != 1 ||
				!strings.Contains(out.String(), "cannot open artisans.phone_sealed of:") ||
				!strings.Contains(errOut.String(), "open with none of the configured keys") {
				t.Fatalf("without the previous key: %d\n%s\n%s", code, out.String(), errOut.String())
			}
			f.readsRight(t, db, svc, oldBox)

			// A run stopped after its first column...
			if _, err := piidata.Rotate(t.Context(), db, newBox, piidata.Options{Batch: 2, Columns: piidata.Columns[:1]}); err != nil {
				t.Fatal(err)
			}
			// ... is finished by the command, while a server holding both keys keeps writing.
			_, server := piiServices(t, oldEnv, newBox)
			stop := make(chan struct{})
			var writes sync.WaitGroup
			writes.Add(1)
			go func() {
				defer writes.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					for id := range f.artisans {
						d := "Tharparkar"
						if _, err := server.Groups.UpdateArtisan(t.Context(), f.manager, id, groups.ArtisanInput{District: &d}); err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
			newEnv := with("KARIGAR_PII_KEY", piiKeyText(2), "KARIGAR_PII_PREVIOUS_KEYS", piiKeyText(1))
			out.Reset()
			errOut.Reset()
			code := run(t.Context(), []string{"pii", "rotate-key", "--batch", "3"}, newEnv, &out, &errOut)
			close(stop)
			writes.Wait()
			if code != 0 {
				t.Fatalf("rotate-key: %d\n%s\n%s", code, out.String(), errOut.String())
			}
			got := map[string][3]string{}
			for _, m := range piiRotatedLine.FindAllStringSubmatch(out.String(), -1) {
				got[m[1]] = [3]string{m[2], m[3], m[4]}
			}
			for _, c := range piidata.Columns {
				r, ok := got[c.Name()]
				if !ok || r[2] != "0" {
					t.Fatalf("%s: %v in\n%s", c.Name(), r, out.String())
				}
				// The server's writes reseal the artisans they change, so the
				// artisans' columns may be done by either; nothing else is.
				if c.Table != "artisans" && r[0] == "0" {
					t.Fatalf("%s: nothing resealed\n%s", c.Name(), out.String())
				}
			}
			if got["artisans.phone_sealed"] != [3]string{"0", "5", "0"} || !strings.Contains(out.String(), "every sealed value is under key "+newBox.KeyID()) {
				t.Fatalf("the stopped run's column:\n%s", out.String())
			}
			underPIIKey(t, db, onlyNew)
			_, reader := piiServices(t, with("KARIGAR_PII_KEY", piiKeyText(2)), onlyNew)
			f.readsRight(t, db, reader, onlyNew)
			// Found by the number a reply comes from, under the new key alone.
			var found int64
			if err := db.Model(&models.Artisan{}).Where("phone_lookup = ?", onlyNew.Lookup("03001234567")).Count(&found).Error; err != nil || found != 1 {
				t.Fatalf("lookup under the new key: %d, %v", found, err)
			}

			// Again: nothing left to do.
			out.Reset()
			if code := run(t.Context(), []string{"pii", "rotate-key"}, newEnv, &out, &errOut); code != 0 ||
				!strings.Contains(out.String(), "(0 resealed") {
				t.Fatalf("second rotate-key: %d\n%s", code, out.String())
			}
		})
	}
}
