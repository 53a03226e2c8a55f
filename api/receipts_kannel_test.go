package api_test

import (
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/receipts"
	"github.com/karigar/karigar/services/sms/kanneltest"
)

// The artisan's receipt from end to end through a real Kannel: the payout
// puts the SMS in the outbox, the sender hands it to Kannel, the fake
// network receives it, her answer typed at the fake phone comes back
// through Kannel's sms-service to /sms/inbound, and the books show whose
// word the acknowledgement is. Nothing here calls the inbound route itself.
func TestReceiptThroughKannel(t *testing.T) {
	kanneltest.Require(t)
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		n := listenSMS(t)
		k := kanneltest.Start(t, kanneltest.Options{InboundURL: n.base + "/api/v1/sms/inbound", InboundToken: smsToken})
		e := n.build(db, func(w *api.Wiring) { w.SMS = withURL(gateway(k), w.SMS) })
		e.pii = smsBox(t)
		f := newReceiptFixture(e)
		e.withSMS(f.public.ID, shaziaPhone, "ur", true)
		n.runSender()
		const group = "Multan Blue Pottery Women"
		payout := func(key string) paidBody {
			t.Helper()
			for _, p := range e.payouts(f.group.ID, f.manager, "?limit=100").Data {
				if p.ID == key {
					return p
				}
			}
			t.Fatalf("no payout %s", key)
			return paidBody{}
		}
		// network waits for the network to hold want messages in all and
		// returns the newest.
		network := func(want int) kanneltest.Message {
			t.Helper()
			got := k.Wait(want, 30*time.Second)
			return got[want-1]
		}

		// 1. The payout's receipt reaches her phone, in Urdu, as the template says.
		p1 := e.pay(f, f.public.ID, 245000, "jazzcash", "kannel-1")
		if p1.Receipt == nil || p1.Receipt.Status != "queued" {
			t.Fatalf("receipt of a payout to a consenting artisan: %+v", p1.Receipt)
		}
		got := network(1)
		want := receipts.ReceiptText("ur", group, models.NewMoney(245000, "PKR"), "jazzcash", p1.Receipt.Code)
		if got.To != "+923001234567" || got.Text != want.Body || !got.Unicode || !strings.Contains(got.Text, "Rs 2,450.00") {
			t.Fatalf("the network got %+v\nwant the text %q to +923001234567 in UCS-2", got, want.Body)
		}
		eventually(t, 10*time.Second, "the receipt sent", func() bool {
			s := payout(p1.ID).Receipt.Status
			return s == "sent" || s == "delivered"
		})

		// 2. Her "ہاں CODE" (Urdu digits and lower case as a phone may type
		// them) confirms it: acknowledged by the artisan herself.
		k.Reply(shaziaPhone, "8800", "ہاں "+strings.ToLower(p1.Receipt.Code))
		eventually(t, 20*time.Second, "her HAAN recorded", func() bool { return payout(p1.ID).AcknowledgedBy != nil })
		if p := payout(p1.ID); *p.AcknowledgedBy != "artisan_sms" || p.Receipt.Status != "confirmed" || p.Receipt.ConfirmedAt == nil {
			t.Fatalf("after her HAAN: acknowledged_by %v, receipt %+v", deref(p.AcknowledgedBy), p.Receipt)
		}
		thanks := network(2)
		if thanks.To != "+923001234567" {
			t.Fatalf("the answer to her HAAN went to %s", thanks.To)
		}

		// 3. The same answer again changes nothing (a polite note at most).
		before := payout(p1.ID)
		k.Reply(shaziaPhone, "8800", "HAAN "+p1.Receipt.Code)
		network(3)
		if after := payout(p1.ID); *after.AcknowledgedAt != *before.AcknowledgedAt || after.Receipt.Status != "confirmed" {
			t.Fatalf("a second HAAN changed the payout: %+v then %+v", before, after)
		}

		// 4. A reply from another number changes nothing, and is answered.
		p2 := e.pay(f, f.public.ID, 10000, "cash", "kannel-2")
		network(4)
		k.Reply("+923339876543", "8800", "NAHI "+p2.Receipt.Code)
		if polite := network(5); polite.To != "+923339876543" {
			t.Fatalf("the stranger's answer went to %s", polite.To)
		}
		if p := payout(p2.ID); p.AcknowledgedBy != nil || p.Receipt.Status == "disputed" || p.Receipt.Status == "confirmed" {
			t.Fatalf("a stranger's NAHI changed the payout: %+v", p)
		}

		// 5. Her "NAHI CODE" disputes it: a finding in the group's report.
		k.Reply(shaziaPhone, "8800", "NAHI "+p2.Receipt.Code)
		eventually(t, 20*time.Second, "her NAHI recorded", func() bool { return payout(p2.ID).Receipt.Status == "disputed" })
		if note := network(6); note.To != "+923001234567" || !strings.Contains(note.Text, p2.Receipt.Code) {
			t.Fatalf("the answer to her NAHI: %+v", note)
		}
		var report struct {
			Findings []struct {
				Kind     string `json:"kind"`
				PayoutID string `json:"payout_id"`
			} `json:"findings"`
		}
		res := e.do("GET", "/api/v1/audit/groups/"+f.group.ID+"/report", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &report)
		found := false
		for _, x := range report.Findings {
			found = found || x.Kind == "disputed_payout" && x.PayoutID == p2.ID
		}
		if !found {
			t.Fatalf("her dispute is not a finding of the report: %+v", report.Findings)
		}
		if p := payout(p2.ID); p.AcknowledgedBy != nil {
			t.Fatalf("a disputed payout is acknowledged by %s", *p.AcknowledgedBy)
		}

		// 6. Kannel down while a payout is made: the receipt waits in the
		// outbox and reaches her once Kannel is back.
		k.Settle(30 * time.Second)
		if sent := len(k.Received()); sent != 6 {
			t.Fatalf("the network got %d messages, want 6: %+v", sent, k.Received())
		}
		k.Stop()
		p3 := e.pay(f, f.public.ID, 5000, "bank", "kannel-3")
		time.Sleep(300 * time.Millisecond) // the sender tries and fails at least once
		if s := payout(p3.ID).Receipt.Status; s != "queued" {
			t.Fatalf("with Kannel down the receipt is %s", s)
		}
		k.Start()
		back := network(7)
		if !strings.Contains(back.Text, p3.Receipt.Code) || back.To != "+923001234567" {
			t.Fatalf("after Kannel came back the network got %+v", back)
		}
	})
}
