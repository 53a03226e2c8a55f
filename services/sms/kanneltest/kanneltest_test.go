package kanneltest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karigar/karigar/services/sms/kanneltest"
)

// Both configurations the project ships are accepted by Kannel's own
// checker (test_cfg of kannel-extras): no unknown groups or variables.
func TestShippedConfigurationsParse(t *testing.T) {
	kanneltest.Require(t)
	dir := t.TempDir()
	rendered := filepath.Join(dir, "kannel.conf")
	if err := kanneltest.Render(rendered); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{rendered, "../../../deployments/kannel/kannel.production.conf"} {
		if err := kanneltest.CheckConfig(t.Context(), path); err != nil {
			t.Error(err)
		}
	}
}

// The harness sees what Kannel hands the network as it was sent (a
// two-part Urdu message put back together, a GSM one), and a reply typed
// at the phone reaches the sms-service's URL, in UTF-8, with its id and
// the token; after a restart Kannel still sends.
func TestKannelRoundTrip(t *testing.T) {
	var mu sync.Mutex
	var calls []url.Values
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.URL.Query())
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer app.Close()
	k := kanneltest.Start(t, kanneltest.Options{InboundURL: app.URL + "/api/v1/sms/inbound", InboundToken: "inbound-token-0123456789"})

	urdu := "آپ کو کرن گروپ سے Rs 2,450.00 نقد ادا ہوئے۔ کوڈ: K7M2Q9XH3A ۔ درست ہو تو ہاں K7M2Q9XH3A لکھیں، ورنہ نہیں K7M2Q9XH3A"
	send(t, k, url.Values{"to": {"+923001234567"}, "text": {urdu}, "coding": {"2"}, "charset": {"UTF-8"}, "from": {"Karigar"}})
	send(t, k, url.Values{"to": {"+923007654321"}, "text": {"Rs 2,450.00 received: reply HAAN K7M2Q9XH3A"}, "charset": {"UTF-8"}})
	got := k.Wait(2, 20*time.Second)
	if got[0].To != "+923001234567" || got[0].From != "Karigar" || got[0].Text != urdu || !got[0].Unicode || got[0].Parts != 2 {
		t.Errorf("the network got %+v, want the Urdu text in 2 UCS-2 parts to +923001234567", got[0])
	}
	if got[1].To != "+923007654321" || got[1].Text != "Rs 2,450.00 received: reply HAAN K7M2Q9XH3A" || got[1].Unicode || got[1].Parts != 1 {
		t.Errorf("the network got %+v", got[1])
	}

	k.Reply("+923001234567", "8800", "ہاں k7m2q9xh3a")
	k.Reply("+923001234567", "8800", "NAHI K7M2Q9XH3A")
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 2 })
	// smsbox calls the sms-service from several threads: the replies may
	// arrive in either order, but each exactly once.
	for _, want := range []string{"ہاں k7m2q9xh3a", "NAHI K7M2Q9XH3A"} {
		n := 0
		for _, c := range calls {
			if c.Get("text") == want {
				n++
				if c.Get("from") != "+923001234567" || c.Get("token") != "inbound-token-0123456789" || len(c.Get("id")) != 36 {
					t.Errorf("call %v, want it from +923001234567 with the token and a gateway id", c)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d calls with the text %q, want 1: %v", n, want, calls)
		}
	}

	k.Stop()
	if _, err := http.Get(k.SendSMSURL()); err == nil {
		t.Fatal("sendsms answers while Kannel is stopped")
	}
	k.Start()
	send(t, k, url.Values{"to": {"+923001234567"}, "text": {"again"}})
	if got := k.Wait(3, 20*time.Second); got[2].Text != "again" {
		t.Errorf("after a restart the network got %+v", got[2])
	}
}

func send(t *testing.T, k *kanneltest.Kannel, q url.Values) {
	t.Helper()
	q.Set("username", kanneltest.User)
	q.Set("password", kanneltest.Password)
	res, err := http.Get(k.SendSMSURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted || !strings.HasPrefix(string(body), "0:") {
		t.Fatalf("sendsms: %d %s", res.StatusCode, body)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
