package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/sms"
	"github.com/karigar/karigar/services/sms/kanneltest"
)

// BenchmarkSMSSender is messages handed to Kannel per second from the
// outbox: b.N receipts (Urdu, two UCS-2 parts each) are queued, then one
// sender claims them, opens each number, and hands each to a real Kannel's
// sendsms until none is queued. Kannel's delivery reports come back to the
// API meanwhile, as in production. It reports msgs/s; see
// docs/performance.md for the figures and the command.
func BenchmarkSMSSender(b *testing.B) {
	kanneltest.Require(b)
	var handler atomic.Pointer[http.Handler]
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	k := kanneltest.Start(b, kanneltest.Options{InboundURL: ts.URL + "/api/v1/sms/inbound", InboundToken: smsToken})
	box, err := pii.New(smsKey[:])
	if err != nil {
		b.Fatal(err)
	}
	sealed, _ := box.Seal("+923001234567")
	for _, engine := range modelstest.Engines() {
		for _, concurrency := range []int{4, 16} {
			b.Run(fmt.Sprintf("%s/concurrency=%d", engine, concurrency), func(b *testing.B) {
				db := modelstest.Open(b, engine)
				w := testWiring()
				w.PII = box
				w.SMSInboundToken = smsToken
				w.SMS = gateway(k)
				w.SMS.DLRURL = ts.URL + "/api/v1/sms/dlr"
				w.SMS.Poll, w.SMS.Concurrency, w.SMS.Batch = 5*time.Millisecond, concurrency, 8*concurrency
				srv, svc := newServer(b, db, w, api.Config{DB: db, Logger: w.Logger})
				h := srv.Handler()
				handler.Store(&h)
				for done := 0; done < b.N; {
					n := min(500, b.N-done)
					if err := db.Transaction(func(tx *gorm.DB) error {
						for range n {
							if _, err := sms.Enqueue(tx, sms.Outgoing{Kind: "receipt", ToSealed: sealed, ToMasked: pii.Mask("+923001234567"),
								Text: urduReceipt, Unicode: true}, time.Now()); err != nil {
								return err
							}
						}
						return nil
					}); err != nil {
						b.Fatal(err)
					}
					done += n
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				b.ResetTimer()
				start := time.Now()
				go svc.SMSSender.Run(ctx)
				for {
					var queued int64
					if err := db.Model(&models.SMSMessage{}).Where("status = ?", models.SMSQueued).Count(&queued).Error; err != nil {
						b.Fatal(err)
					}
					if queued == 0 {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				var failed int64
				db.Model(&models.SMSMessage{}).Where("status = ? OR attempts > 1", models.SMSFailed).Count(&failed)
				if failed > 0 {
					b.Fatalf("%d messages failed or were retried", failed)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			})
		}
	}
}
