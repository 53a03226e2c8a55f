package api_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/sms"
	"github.com/karigar/karigar/services/sms/kanneltest"
)

// The SMS tests send through a real Kannel (kanneltest) and read what it
// hands the fake network; Kannel calls the API back over HTTP for delivery
// reports and replies.

const smsToken = "sms-inbound-test-token-0123456789"

var smsKey = sha256.Sum256([]byte("karigar sms test pii key"))

func smsBox(t testing.TB) *pii.Box {
	t.Helper()
	b, err := pii.New(smsKey[:])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// smsNode is one API server reachable over HTTP, as Kannel reaches it.
type smsNode struct {
	t       testing.TB
	e       *env
	svc     api.Services
	base    string
	handler atomic.Pointer[http.Handler]
}

// listenSMS starts the HTTP server of a node whose API is built later
// (build): Kannel must know where to call before the API knows Kannel.
// Every answer to Kannel's calls is checked against openapi.yaml.
func listenSMS(t testing.TB) *smsNode {
	t.Helper()
	n := &smsNode{t: t}
	spec := newSpecChecker(t.(*testing.T))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := n.handler.Load()
		if h == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		rec := httptest.NewRecorder()
		(*h).ServeHTTP(rec, r)
		spec.check(t.(*testing.T), r.Method, r.URL.RequestURI(), r.Header, &response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()})
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(ts.Close)
	n.base = ts.URL
	return n
}

// build wires the API on db with the test PII key and inbound token, the
// delivery reports coming back to this node, and configure's changes.
func (n *smsNode) build(db *gorm.DB, configure func(w *api.Wiring)) *env {
	t := n.t
	t.Helper()
	w := testWiring()
	w.PII = smsBox(t)
	w.SMSInboundToken = smsToken
	w.SMS.DLRURL = n.base + "/api/v1/sms/dlr"
	if configure != nil {
		configure(&w)
	}
	srv, svc := newServer(t, db, w, api.Config{DB: db, Logger: w.Logger})
	n.svc = svc
	n.e = &env{t: t.(*testing.T), orders: svc.Orders, ledger: svc.Ledger, db: db, auth: svc.Auth, srv: srv, spec: newSpecChecker(t.(*testing.T))}
	h := srv.Handler()
	n.handler.Store(&h)
	return n.e
}

// runSender runs the node's sender until the returned stop is called (or
// the test ends); stop returns once it has finished.
func (n *smsNode) runSender() (stop func()) {
	if n.svc.SMSSender == nil {
		n.t.Fatal("no sender: the gateway URL is not set")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.svc.SMSSender.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	n.t.Cleanup(stop)
	return stop
}

// gateway is Kannel's sendsms for the test sender, with short waits.
func gateway(k *kanneltest.Kannel) sms.Gateway {
	return sms.Gateway{URL: k.SendSMSURL(), User: kanneltest.User, Password: kanneltest.Password, From: "Karigar",
		Poll: 20 * time.Millisecond, Backoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, MaxAttempts: 200,
		Timeout: 5 * time.Second}
}

// enqueue writes a message to the outbox as the receipts do: in a
// transaction of the caller's, the number sealed.
func enqueue(t testing.TB, db *gorm.DB, box *pii.Box, groupID, artisanID *uuid.UUID, phone, text string) uuid.UUID {
	t.Helper()
	sealed, err := box.Seal(phone)
	if err != nil {
		t.Fatal(err)
	}
	var id uuid.UUID
	if err := db.Transaction(func(tx *gorm.DB) error {
		id, err = sms.Enqueue(tx, sms.Outgoing{GroupID: groupID, ArtisanID: artisanID, Kind: "receipt", ToSealed: sealed,
			ToMasked: pii.Mask(phone), Text: text, Unicode: !sms.GSM7(text)}, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func smsRow(t testing.TB, db *gorm.DB, id uuid.UUID) models.SMSMessage {
	t.Helper()
	var m models.SMSMessage
	if err := db.First(&m, "id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	return m
}

// eventually waits for cond, failing the test with what after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
	}
}

type smsMessageBody struct {
	ID          string  `json:"id"`
	ArtisanID   *string `json:"artisan_id"`
	Kind        string  `json:"kind"`
	To          string  `json:"to"`
	Status      string  `json:"status"`
	Attempts    int     `json:"attempts"`
	LastError   *string `json:"last_error"`
	CreatedAt   string  `json:"created_at"`
	SentAt      *string `json:"sent_at"`
	DeliveredAt *string `json:"delivered_at"`
	FailedAt    *string `json:"failed_at"`
}

const urduReceipt = "آپ کو ملتان بلیو پوٹری سے Rs 2,450.00 نقد ملے۔ کوڈ K7M2Q9XH3A۔ درست ہو تو ہاں K7M2Q9XH3A لکھیں، ورنہ نہیں K7M2Q9XH3A"

// A receipt in Urdu, two UCS-2 parts, reaches the network as it was
// written, to the artisan's number; the network's delivery report makes
// it delivered; the group's list shows it with the number masked.
func TestSMSUrduReachesTheNetworkAndIsDelivered(t *testing.T) {
	kanneltest.Require(t)
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		n := listenSMS(t)
		k := kanneltest.Start(t, kanneltest.Options{InboundURL: n.base + "/api/v1/sms/inbound", InboundToken: smsToken})
		e := n.build(db, func(w *api.Wiring) { w.SMS = withURL(gateway(k), w.SMS) })
		f := newCatalogFixture(e)
		gid, aid := uuid.MustParse(f.group.ID), uuid.MustParse(f.public.ID)
		if sms.Segments(urduReceipt, true) != 2 {
			t.Fatalf("the test's receipt is %d parts, want 2", sms.Segments(urduReceipt, true))
		}
		id := enqueue(t, db, smsBox(t), &gid, &aid, "+923001234567", urduReceipt)
		n.runSender()

		got := k.Wait(1, 20*time.Second)[0]
		if got.To != "+923001234567" || got.From != "Karigar" || got.Text != urduReceipt || !got.Unicode || got.Parts != 2 {
			t.Fatalf("the network got %+v, want the Urdu receipt whole, as UCS-2 in 2 parts, to +923001234567", got)
		}
		eventually(t, 10*time.Second, "the delivery report makes it delivered", func() bool {
			return smsRow(t, db, id).Status == models.SMSDelivered
		})
		res := e.do("GET", "/api/v1/groups/"+f.group.ID+"/messages", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		var list listBody[smsMessageBody]
		res.decode(t, &list)
		if len(list.Data) != 1 {
			t.Fatalf("messages: %s", res.Body)
		}
		m := list.Data[0]
		if m.ID != id.String() || m.To != "+92300*****67" || m.Status != "delivered" || m.Attempts != 1 || m.Kind != "receipt" ||
			m.SentAt == nil || m.DeliveredAt == nil || m.FailedAt != nil || m.ArtisanID == nil || *m.ArtisanID != f.public.ID {
			t.Errorf("message %+v", m)
		}
		if body := string(res.Body); strings.Contains(body, "1234567") || strings.Contains(body, "pii1.") || strings.Contains(body, "K7M2Q9XH3A") {
			t.Errorf("the list shows the number, its sealed form or the text: %s", body)
		}
		// The delivery report can come back before the sender has recorded
		// what Kannel answered it: the sender counts "sent" a moment later.
		for _, want := range []string{`karigar_sms_total{outcome="sent"} 1`, `karigar_sms_total{outcome="delivered"} 1`} {
			eventually(t, 10*time.Second, "/metrics shows "+want, func() bool {
				return strings.Contains(string(e.do("GET", "/metrics", nil).Body), want)
			})
		}
	})
}

// withURL keeps the DLR URL build has set while taking the rest of g.
func withURL(g, current sms.Gateway) sms.Gateway {
	g.DLRURL = current.DLRURL
	return g
}

// While Kannel is down a message stays queued and is retried with the
// reason recorded; once Kannel is back it is sent.
func TestSMSKannelDownThenBack(t *testing.T) {
	kanneltest.Require(t)
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		n := listenSMS(t)
		k := kanneltest.Start(t, kanneltest.Options{InboundURL: n.base + "/api/v1/sms/inbound", InboundToken: smsToken})
		n.build(db, func(w *api.Wiring) { w.SMS = withURL(gateway(k), w.SMS) })
		k.Stop()
		id := enqueue(t, db, smsBox(t), nil, nil, "03001234567", "Karigar: Rs 2,450.00 paid. Reply HAAN K7M2Q9XH3A")
		n.runSender()
		eventually(t, 20*time.Second, "three attempts while Kannel is down", func() bool { return smsRow(t, db, id).Attempts >= 3 })
		m := smsRow(t, db, id)
		if m.Status != models.SMSQueued || m.LastError == nil || !strings.Contains(*m.LastError, "Kannel cannot be reached") ||
			strings.Contains(*m.LastError, "1234567") || strings.Contains(*m.LastError, kanneltest.Password) {
			t.Fatalf("while Kannel is down: status %s, error %v", m.Status, deref(m.LastError))
		}
		k.Start()
		got := k.Wait(1, 20*time.Second)
		if len(got) != 1 || got[0].To != "+923001234567" || got[0].Text != "Karigar: Rs 2,450.00 paid. Reply HAAN K7M2Q9XH3A" {
			t.Fatalf("after Kannel came back the network got %+v", got)
		}
		eventually(t, 10*time.Second, "sent or delivered", func() bool {
			s := smsRow(t, db, id).Status
			return s == models.SMSSent || s == models.SMSDelivered
		})
		if m := smsRow(t, db, id); m.SentAt == nil {
			t.Errorf("sent without sent_at: %+v", m)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// Kannel refusing a message (here: a wrong password, 403) is retried, and
// after the last attempt the message fails for good, with Kannel's answer.
func TestSMSFailsForGoodAfterTheLastAttempt(t *testing.T) {
	kanneltest.Require(t)
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		n := listenSMS(t)
		k := kanneltest.Start(t, kanneltest.Options{InboundURL: n.base + "/api/v1/sms/inbound", InboundToken: smsToken})
		n.build(db, func(w *api.Wiring) {
			g := withURL(gateway(k), w.SMS)
			g.Password, g.MaxAttempts = "not-the-password", 3
			w.SMS = g
		})
		id := enqueue(t, db, smsBox(t), nil, nil, "+923001234567", "Rs 10.00")
		n.runSender()
		eventually(t, 20*time.Second, "failed for good", func() bool { return smsRow(t, db, id).Status == models.SMSFailed })
		m := smsRow(t, db, id)
		if m.Attempts != 3 || m.FailedAt == nil || m.SentAt != nil || m.LastError == nil || !strings.Contains(*m.LastError, "Kannel answered 403") {
			t.Errorf("failed message: attempts %d, failed_at %v, error %q", m.Attempts, m.FailedAt, deref(m.LastError))
		}
		if got := k.Received(); len(got) != 0 {
			t.Errorf("the network got %+v", got)
		}
	})
}

// smsDatabases opens count handles on one new database per engine, as
// several replicas would, and runs fn with them.
func smsDatabases(t *testing.T, count int, fn func(t *testing.T, dbs []*gorm.DB)) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			u := modelstest.URL(t, engine)
			var dbs []*gorm.DB
			for range count {
				db, err := models.Open(context.Background(), u, models.OpenOptions{MaxOpenConns: 10})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = models.Close(db) })
				if _, err := models.Migrate(context.Background(), db); err != nil {
					t.Fatal(err)
				}
				dbs = append(dbs, db)
			}
			fn(t, dbs)
		})
	}
}

// wantEachOnce checks that the network got each of texts exactly once.
func wantEachOnce(t *testing.T, got []kanneltest.Message, texts []string) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range got {
		seen[m.Text]++
	}
	for _, text := range texts {
		if seen[text] != 1 {
			t.Errorf("the network got %q %d times, want once", text, seen[text])
		}
	}
	if len(got) != len(texts) {
		t.Errorf("the network got %d messages, want %d", len(got), len(texts))
	}
}

// Two server instances on one database, each with its sender, hand each
// of 50 messages to Kannel exactly once (counted at the network), each on
// its first attempt.
func TestSMSTwoSendersHandEachMessageOnce(t *testing.T) {
	kanneltest.Require(t)
	t.Parallel()
	smsDatabases(t, 2, func(t *testing.T, dbs []*gorm.DB) {
		a, b := listenSMS(t), listenSMS(t)
		k := kanneltest.Start(t, kanneltest.Options{InboundURL: a.base + "/api/v1/sms/inbound", InboundToken: smsToken})
		for _, node := range []struct {
			n  *smsNode
			db *gorm.DB
		}{{a, dbs[0]}, {b, dbs[1]}} {
			node.n.build(node.db, func(w *api.Wiring) {
				g := withURL(gateway(k), w.SMS)
				g.Batch, g.Concurrency = 5, 3
				w.SMS = g
			})
		}
		texts := make([]string, 50)
		ids := make([]uuid.UUID, 50)
		for i := range texts {
			texts[i] = fmt.Sprintf("Karigar message %02d", i)
			ids[i] = enqueue(t, dbs[0], smsBox(t), nil, nil, fmt.Sprintf("+9230012345%02d", i), texts[i])
		}
		a.runSender()
		b.runSender()
		k.Wait(50, 60*time.Second)
		eventually(t, 20*time.Second, "all 50 sent", func() bool {
			var left int64
			dbs[0].Model(&models.SMSMessage{}).Where("status = ?", models.SMSQueued).Count(&left)
			return left == 0
		})
		k.Settle(20 * time.Second)
		wantEachOnce(t, k.Received(), texts)
		var retried int64
		dbs[1].Model(&models.SMSMessage{}).Where("attempts <> 1").Count(&retried)
		if retried != 0 {
			t.Errorf("%d messages were claimed more than once", retried)
		}
	})
}

// A sender stopped mid-way (the replica shutting down) finishes what it
// had in flight and gives back what it had claimed; a new one sends the
// rest: each of 50 messages reaches the network once.
func TestSMSSenderRestartedMidwayLosesNothing(t *testing.T) {
	kanneltest.Require(t)
	t.Parallel()
	smsDatabases(t, 2, func(t *testing.T, dbs []*gorm.DB) {
		first := listenSMS(t)
		k := kanneltest.Start(t, kanneltest.Options{InboundURL: first.base + "/api/v1/sms/inbound", InboundToken: smsToken})
		slow := func(w *api.Wiring) {
			g := withURL(gateway(k), w.SMS)
			g.Batch, g.Concurrency = 10, 2
			w.SMS = g
		}
		first.build(dbs[0], slow)
		texts := make([]string, 50)
		for i := range texts {
			texts[i] = fmt.Sprintf("Karigar restart %02d", i)
			enqueue(t, dbs[0], smsBox(t), nil, nil, fmt.Sprintf("+9230076543%02d", i), texts[i])
		}
		stop := first.runSender()
		eventually(t, 30*time.Second, "a few sent", func() bool {
			var sent int64
			dbs[0].Model(&models.SMSMessage{}).Where("status <> ?", models.SMSQueued).Count(&sent)
			return sent >= 5
		})
		stop()
		var sent, queued int64
		dbs[0].Model(&models.SMSMessage{}).Where("status <> ?", models.SMSQueued).Count(&sent)
		dbs[0].Model(&models.SMSMessage{}).Where("status = ? AND next_attempt_at > ?", models.SMSQueued, time.Now().Add(time.Second)).Count(&queued)
		if sent == 50 {
			t.Fatal("the first sender sent everything before it was stopped: the test proves nothing")
		}
		if queued != 0 {
			t.Errorf("%d messages are still set aside by the stopped sender", queued)
		}

		second := listenSMS(t)
		second.build(dbs[1], slow)
		second.runSender()
		k.Wait(50, 60*time.Second)
		eventually(t, 20*time.Second, "all 50 sent", func() bool {
			var left int64
			dbs[1].Model(&models.SMSMessage{}).Where("status = ?", models.SMSQueued).Count(&left)
			return left == 0
		})
		k.Settle(20 * time.Second)
		wantEachOnce(t, k.Received(), texts)
	})
}

// A reply typed at the phone reaches the handler once, through Kannel,
// even when Kannel delivers it twice: here the answer to its first call is
// lost (a proxy between Kannel and Karigar answers 500 instead), so Kannel
// calls again with the same id. The handler's reply goes back to the phone
// once.
func TestSMSReplyReachesTheHandlerOnce(t *testing.T) {
	kanneltest.Require(t)
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		n := listenSMS(t)
		var mu sync.Mutex
		var calls []url.Values
		var seen = map[string]bool{}
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls = append(calls, r.URL.Query())
			lose := !seen[r.URL.Query().Get("id")]
			seen[r.URL.Query().Get("id")] = true
			mu.Unlock()
			res, err := http.Get(n.base + r.URL.RequestURI())
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			res.Body.Close()
			if lose {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(res.StatusCode)
		}))
		defer proxy.Close()
		k := kanneltest.Start(t, kanneltest.Options{InboundURL: proxy.URL + "/api/v1/sms/inbound", InboundToken: smsToken})
		var handled []sms.Inbound
		var hmu sync.Mutex
		e := n.build(db, func(w *api.Wiring) {
			w.SMS = withURL(gateway(k), w.SMS)
			w.SMSHandler = func(ctx context.Context, tx *gorm.DB, in sms.Inbound) (*sms.Outgoing, error) {
				hmu.Lock()
				handled = append(handled, in)
				hmu.Unlock()
				return &sms.Outgoing{Kind: "reply", Text: "شکریہ، آپ کی تصدیق مل گئی۔"}, nil
			}
		})
		n.runSender()

		k.Reply("+923001234567", "8800", "ہاں k7m2q9xh3a")
		got := k.Wait(1, 30*time.Second)
		if got[0].To != "+923001234567" || got[0].Text != "شکریہ، آپ کی تصدیق مل گئی۔" || !got[0].Unicode {
			t.Fatalf("the reply to the phone: %+v", got[0])
		}
		eventually(t, 10*time.Second, "Kannel called twice", func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) >= 2 })
		mu.Lock()
		if len(calls) != 2 || calls[0].Get("id") == "" || calls[0].Get("id") != calls[1].Get("id") {
			t.Errorf("Kannel's calls: %v, want the same id twice", calls)
		}
		mu.Unlock()
		hmu.Lock()
		if len(handled) != 1 || handled[0].Text != "ہاں k7m2q9xh3a" || handled[0].From != "+923001234567" || handled[0].GatewayID == "" {
			t.Errorf("handled %+v, want the reply once, in UTF-8", handled)
		}
		hmu.Unlock()
		if c := e.count("sms_inbound", ""); c != 1 {
			t.Errorf("%d received ids, want 1", c)
		}
		if c := e.count("sms_messages", "kind = ?", "reply"); c != 1 {
			t.Errorf("%d replies in the outbox, want 1", c)
		}
		var in models.SMSInbound
		if err := db.First(&in).Error; err != nil || in.FromLookup != smsBox(t).Lookup("03001234567") || in.ReplyID == nil {
			t.Errorf("received id %+v (%v): want the sender's lookup hash and the reply", in, err)
		}
		k.Settle(20 * time.Second)
		if got := k.Received(); len(got) != 1 {
			t.Errorf("the network got %d messages, want the one reply", len(got))
		}
	})
}

// The inbound route called directly: the token is required (header or
// query), the same gateway id twice is handled once, nothing usable is
// 200 and changes nothing, a handler's refusal is recorded and not
// retried; and the delivery-report route checks its token.
func TestSMSInboundTokensAndDuplicates(t *testing.T) {
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		n := listenSMS(t)
		var calls atomic.Int32
		e := n.build(db, func(w *api.Wiring) {
			w.SMSHandler = func(ctx context.Context, tx *gorm.DB, in sms.Inbound) (*sms.Outgoing, error) {
				calls.Add(1)
				if in.Text == "refuse" {
					return nil, services.Invalid(map[string]string{"text": "is not a reply"})
				}
				return nil, nil
			}
		})
		inbound := "/api/v1/sms/inbound?from=%2B923001234567&text=HAAN+K7M2Q9XH3A&id="
		for _, c := range []struct {
			name string
			path string
			opts []reqOption
		}{
			{"no token", inbound + "a1", nil},
			{"wrong query token", inbound + "a1&token=wrong", nil},
			{"wrong header", inbound + "a1", []reqOption{header("X-Karigar-SMS-Token", smsToken+"x")}},
		} {
			e.do("GET", c.path, nil, c.opts...).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		if calls.Load() != 0 || e.count("sms_inbound", "") != 0 {
			t.Fatal("a refused call was handled")
		}
		var ack struct {
			Outcome string `json:"outcome"`
		}
		first := e.do("GET", inbound+"a1&token="+smsToken, nil)
		first.wantStatus(t, http.StatusAccepted)
		first.decode(t, &ack)
		again := e.do("GET", inbound+"a1", nil, header("X-Karigar-SMS-Token", smsToken))
		again.wantStatus(t, http.StatusOK)
		again.decode(t, &ack)
		if ack.Outcome != "duplicate" || calls.Load() != 1 {
			t.Errorf("the same id twice: %q, handler called %d times", ack.Outcome, calls.Load())
		}
		form := e.do("POST", "/api/v1/sms/inbound", rawBody("from=%2B923001234567&text=%DB%81%D8%A7%DA%BA&id=a2&token="+smsToken),
			header("Content-Type", "application/x-www-form-urlencoded"))
		form.wantStatus(t, http.StatusAccepted)
		for _, path := range []string{"/api/v1/sms/inbound?text=x&id=a3&token=" + smsToken, "/api/v1/sms/inbound?from=1&text=x&token=" + smsToken} {
			res := e.do("GET", path, nil)
			res.wantStatus(t, http.StatusOK)
			res.decode(t, &ack)
			if ack.Outcome != "ignored" {
				t.Errorf("%s: %q, want ignored", path, ack.Outcome)
			}
		}
		refused := "/api/v1/sms/inbound?from=%2B923001234567&text=refuse&id=a4&token=" + smsToken
		for i, want := range []string{"ignored", "duplicate"} {
			res := e.do("GET", refused, nil)
			res.wantStatus(t, http.StatusOK)
			res.decode(t, &ack)
			if ack.Outcome != want {
				t.Errorf("refused message, call %d: %q, want %q", i+1, ack.Outcome, want)
			}
		}
		if c := e.count("sms_inbound", ""); c != 3 {
			t.Errorf("%d received ids, want 3 (a1, a2, a4)", c)
		}

		id := enqueue(t, db, smsBox(t), nil, nil, "+923001234567", "Rs 10.00")
		token := sms.DLRToken(api.DeriveKey(testSecret, "sms-dlr"), id)
		dlr := "/api/v1/sms/dlr?id=" + id.String()
		e.do("GET", dlr+"&type=1&token=0000", nil).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("GET", "/api/v1/sms/dlr?id="+uuid.NewString()+"&type=1&token="+token, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
		for _, c := range []struct {
			method, query, want, status string
		}{
			{"GET", "&type=8", "ignored", "queued"}, {"GET", "&type=x", "ignored", "queued"},
			{"POST", "&type=1", "delivered", "delivered"}, {"GET", "&type=2", "ignored", "delivered"},
		} {
			res := e.do(c.method, dlr+c.query+"&token="+token, nil)
			res.wantStatus(t, http.StatusOK)
			res.decode(t, &ack)
			if m := smsRow(t, db, id); ack.Outcome != c.want || m.Status != c.status {
				t.Errorf("report%s: %q and status %s, want %q and %s", c.query, ack.Outcome, m.Status, c.want, c.status)
			}
		}
		if m := smsRow(t, db, id); m.SentAt == nil || m.DeliveredAt == nil {
			t.Errorf("delivered without sent_at or delivered_at: %+v", m)
		}
	})
}

// Without a gateway URL no sender runs and messages wait, queued. The
// group's list pages newest first, filters by status, and is for its
// managers, its assigned auditors and admins only.
func TestSMSGroupMessages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		box := smsBox(t)
		gid, other := uuid.MustParse(f.group.ID), uuid.MustParse(f.pending.ID)
		var ids []uuid.UUID
		for i := range 3 {
			ids = append(ids, enqueue(t, e.db, box, &gid, nil, "+9230012345"+fmt.Sprint(60+i), fmt.Sprintf("message %d", i)))
		}
		enqueue(t, e.db, box, &other, nil, "+923001234599", "another group's")
		if err := e.db.Model(&models.SMSMessage{}).Where("id = ?", ids[0]).Updates(map[string]any{"status": "failed", "failed_at": time.Now()}).Error; err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/groups/" + f.group.ID + "/messages"
		res := e.do("GET", path+"?limit=2", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		var page1, page2 listBody[smsMessageBody]
		res.decode(t, &page1)
		if len(page1.Data) != 2 || page1.NextCursor == nil || page1.Data[0].ID != ids[2].String() || page1.Data[1].ID != ids[1].String() ||
			page1.Data[0].Status != "queued" || page1.Data[0].To != "+92300*****62" || page1.Data[0].SentAt != nil {
			t.Fatalf("first page: %s", res.Body)
		}
		res = e.do("GET", path+"?limit=2&cursor="+url.QueryEscape(*page1.NextCursor), nil, bearer(f.manager.AccessToken))
		res.decode(t, &page2)
		if len(page2.Data) != 1 || page2.NextCursor != nil || page2.Data[0].ID != ids[0].String() || page2.Data[0].Status != "failed" {
			t.Fatalf("second page: %s", res.Body)
		}
		res = e.do("GET", path+"?status=failed", nil, bearer(f.manager.AccessToken))
		res.decode(t, &page2)
		if len(page2.Data) != 1 || page2.Data[0].ID != ids[0].String() {
			t.Errorf("failed only: %s", res.Body)
		}
		e.do("GET", path+"?status=lost", nil, bearer(f.manager.AccessToken)).wantError(t, http.StatusBadRequest, "bad_request")
		e.do("GET", path+"?status=failed&cursor="+url.QueryEscape(*page1.NextCursor), nil, bearer(f.manager.AccessToken)).
			wantError(t, http.StatusBadRequest, "bad_request")

		e.do("GET", path, nil, bearer(f.auditor.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
		e.assignAuditor(f.admin, f.group.ID, "auditor@ngo.pk")
		e.do("GET", path, nil, bearer(f.auditor.AccessToken)).wantStatus(t, http.StatusOK)
		e.do("GET", path, nil, bearer(f.admin.AccessToken)).wantStatus(t, http.StatusOK)
		e.do("GET", path, nil, bearer(f.other.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).wantError(t, http.StatusForbidden, "forbidden")
		e.do("GET", path, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("GET", "/api/v1/groups/"+uuid.NewString()+"/messages", nil, bearer(f.admin.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
		if c := e.count("sms_messages", "status = ?", "queued"); c != 3 {
			t.Errorf("%d queued, want 3: without a gateway nothing is sent", c)
		}
	})
}
