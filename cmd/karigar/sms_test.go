package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/sms"
	"github.com/karigar/karigar/services/sms/kanneltest"
)

func TestConfigSMS(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, c := range []struct {
		name string
		env  map[string]string
		want string // a fragment of the error; empty: accepted
	}{
		{"none", map[string]string{}, ""},
		{"all", map[string]string{"KARIGAR_SMS_URL": "http://127.0.0.1:13013/cgi-bin/sendsms", "KARIGAR_SMS_USER": "karigar",
			"KARIGAR_SMS_PASSWORD": "pw", "KARIGAR_SMS_FROM": "Karigar", "KARIGAR_PII_KEY": key,
			"KARIGAR_SMS_INBOUND_TOKEN": "0123456789abcdef0123"}, ""},
		{"no user", map[string]string{"KARIGAR_SMS_URL": "http://127.0.0.1:13013/cgi-bin/sendsms", "KARIGAR_PII_KEY": key},
			"KARIGAR_SMS_URL: needs KARIGAR_SMS_USER and KARIGAR_SMS_PASSWORD"},
		{"no PII key", map[string]string{"KARIGAR_SMS_URL": "http://127.0.0.1:13013/cgi-bin/sendsms", "KARIGAR_SMS_USER": "u",
			"KARIGAR_SMS_PASSWORD": "p"}, "KARIGAR_SMS_URL: needs KARIGAR_PII_KEY"},
		{"not a URL", map[string]string{"KARIGAR_SMS_URL": "127.0.0.1:13013", "KARIGAR_SMS_USER": "u", "KARIGAR_SMS_PASSWORD": "p",
			"KARIGAR_PII_KEY": key}, "KARIGAR_SMS_URL: must be the absolute http(s) URL"},
		{"user without URL", map[string]string{"KARIGAR_SMS_USER": "u"}, "KARIGAR_SMS_URL: is not set"},
		{"sender too long", map[string]string{"KARIGAR_SMS_URL": "http://k/cgi-bin/sendsms", "KARIGAR_SMS_USER": "u",
			"KARIGAR_SMS_PASSWORD": "p", "KARIGAR_PII_KEY": key, "KARIGAR_SMS_FROM": "Karigar Marketplace"}, "KARIGAR_SMS_FROM"},
		{"short token", map[string]string{"KARIGAR_SMS_INBOUND_TOKEN": "secret"}, "KARIGAR_SMS_INBOUND_TOKEN"},
		{"token needing escapes", map[string]string{"KARIGAR_SMS_INBOUND_TOKEN": "0123456789abcdef&x=1"}, "KARIGAR_SMS_INBOUND_TOKEN"},
	} {
		_, err := loadConfig(envOf(c.env))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// karigar serve with KARIGAR_SMS_URL runs the sender: a message in the
// outbox reaches the network through Kannel, and Kannel's delivery report
// comes back to KARIGAR_PUBLIC_URL. SIGTERM stops the sender with the
// server, and serve exits cleanly.
func TestServeSendsSMSThroughKannel(t *testing.T) {
	kanneltest.Require(t)
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			k := kanneltest.Start(t, kanneltest.Options{})
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			l.Close()
			key := sha256.Sum256([]byte("karigar cmd sms test key"))
			dbURL := modelstest.URL(t, engine)
			_, stop, done, logs := startServe(t, envOf(map[string]string{
				"KARIGAR_ADDR": addr, "KARIGAR_PUBLIC_URL": "http://" + addr, "KARIGAR_DATABASE_URL": dbURL,
				"KARIGAR_JWT_SECRET": strings.Repeat("k", 40), "KARIGAR_SHUTDOWN_DRAIN": "0s",
				"KARIGAR_PII_KEY": base64.StdEncoding.EncodeToString(key[:]), "KARIGAR_SMS_URL": k.SendSMSURL(),
				"KARIGAR_SMS_USER": kanneltest.User, "KARIGAR_SMS_PASSWORD": kanneltest.Password, "KARIGAR_SMS_FROM": "Karigar",
			}))
			db, err := models.Open(context.Background(), dbURL, models.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer models.Close(db)
			box, _ := pii.New(key[:])
			sealed, _ := box.Seal("+923001234567")
			var id any
			if err := db.Transaction(func(tx *gorm.DB) error {
				var err error
				id, err = sms.Enqueue(tx, sms.Outgoing{Kind: "receipt", ToSealed: sealed, ToMasked: pii.Mask("+923001234567"),
					Text: "آپ کو Rs 2,450.00 ملے۔", Unicode: true}, time.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got := k.Wait(1, 30*time.Second)[0]; got.Text != "آپ کو Rs 2,450.00 ملے۔" || got.To != "+923001234567" || got.From != "Karigar" {
				t.Fatalf("the network got %+v", got)
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				var m models.SMSMessage
				if err := db.First(&m, "id = ?", id).Error; err == nil && m.Status == models.SMSDelivered {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the message is not delivered after 20 s:\n%s", logs.String())
				}
			}
			stop()
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("serve exited with %d:\n%s", code, logs.String())
				}
			case <-time.After(40 * time.Second):
				t.Fatal("serve did not stop")
			}
			for _, want := range []string{"sms: sending through Kannel", "sms: sender stopped"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log lacks %q", want)
				}
			}
			if strings.Contains(logs.String(), kanneltest.Password) || strings.Contains(logs.String(), "1234567") {
				t.Errorf("the log holds the gateway's password or the number:\n%s", logs.String())
			}
		})
	}
}
