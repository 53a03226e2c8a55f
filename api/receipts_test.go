package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/sms"
)

type receiptBody struct {
	Code        string  `json:"code"`
	Status      string  `json:"status"`
	SentAt      *string `json:"sent_at"`
	ConfirmedAt *string `json:"confirmed_at"`
	DisputedAt  *string `json:"disputed_at"`
}

// paidBody is a payout as every route that returns one shows it.
type paidBody struct {
	ID             string       `json:"id"`
	ArtisanID      string       `json:"artisan_id"`
	Amount         money        `json:"amount"`
	Method         string       `json:"method"`
	AcknowledgedAt *string      `json:"acknowledged_at"`
	AcknowledgedBy *string      `json:"acknowledged_by"`
	Note           *string      `json:"acknowledgement_note"`
	Receipt        *receiptBody `json:"receipt"`
}

var codePattern = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{10}$`)

// Shazia's and Rukhsana's numbers, and one that is no artisan's.
const (
	shaziaPhone   = "03001234567"
	rukhsanaPhone = "+923331112299"
	strangerPhone = "+923459876543"
)

// withSMS gives an artisan a phone number, sealed with its lookup hash as
// services/pii stores it, her consent to SMS and her language, in the
// database.
// TODO(pii): through the artisan routes once the pii branch (which adds
// sms_consent and language to them) has merged.
func (e *env) withSMS(artisanID, phone, lang string, consent bool) {
	e.t.Helper()
	set := map[string]any{"sms_consent": consent, "language": lang, "phone_sealed": nil, "phone_lookup": nil, "phone": nil}
	if phone != "" {
		sealed, err := e.pii.Seal(phone)
		if err != nil {
			e.t.Fatal(err)
		}
		set["phone_sealed"], set["phone_lookup"] = sealed, e.pii.Lookup(phone)
	}
	if err := e.db.Model(&models.Artisan{}).Where("id = ?", artisanID).Updates(set).Error; err != nil {
		e.t.Fatal(err)
	}
}

// pay pays an artisan of f's group through the API.
func (e *env) pay(f catalogFixture, artisanID string, amount int64, method, key string) paidBody {
	e.t.Helper()
	res := e.do("POST", "/api/v1/groups/"+f.group.ID+"/payouts", map[string]any{"artisan_id": artisanID, "amount": pkr(amount),
		"method": method, "reference": "REF-" + key}, bearer(f.manager.AccessToken), header("Idempotency-Key", key))
	res.wantStatus(e.t, http.StatusCreated)
	var p paidBody
	res.decode(e.t, &p)
	return p
}

// text hands an SMS from a phone to the server's inbound handler inside a
// transaction, as POST /sms/inbound does, and puts the handler's reply in
// the outbox in the same transaction. It returns the reply.
// TODO(sms): the end-to-end test through Kannel and /sms/inbound is written
// at the merge with the sms branch.
func (e *env) text(from, body string) *sms.Outgoing {
	e.t.Helper()
	return e.textAt(from, body, time.Now())
}

// textAt is text for a message the gateway received at at.
func (e *env) textAt(from, body string, at time.Time) *sms.Outgoing {
	e.t.Helper()
	out, err := e.handleSMS(from, body, at)
	if err != nil {
		e.t.Fatalf("inbound %q: %v", body, err)
	}
	if out == nil {
		e.t.Fatalf("inbound %q: no reply", body)
	}
	return out
}

// handleSMS is textAt for any goroutine: it returns what went wrong.
func (e *env) handleSMS(from, body string, at time.Time) (*sms.Outgoing, error) {
	var out *sms.Outgoing
	err := models.Transact(context.Background(), e.db, func(tx *gorm.DB) error {
		var err error
		if out, err = e.inbound(context.Background(), tx, sms.Inbound{GatewayID: uuid.NewString(), From: from, Text: body,
			ReceivedAt: at}); err != nil || out == nil {
			return err
		}
		_, err = sms.Enqueue(tx, *out, time.Now())
		return err
	})
	return out, err
}

// wantReply checks a reply's number, kind, encoding and words.
func (e *env) wantReply(out *sms.Outgoing, to, kind string, unicode bool, words ...string) {
	e.t.Helper()
	number, err := e.pii.Open(out.ToSealed)
	if err != nil || e.pii.Lookup(number) != e.pii.Lookup(to) {
		e.t.Errorf("reply sent to %q (%v), want %s", number, err, to)
	}
	if out.Kind != kind || out.Unicode != unicode {
		e.t.Errorf("reply kind %q unicode %v, want %q %v: %s", out.Kind, out.Unicode, kind, unicode, out.Text)
	}
	for _, w := range words {
		if !strings.Contains(out.Text, w) {
			e.t.Errorf("reply %q lacks %q", out.Text, w)
		}
	}
}

// payouts lists a group's payouts as s sees them.
func (e *env) payouts(groupID string, s session, query string) listBody[paidBody] {
	e.t.Helper()
	res := e.do("GET", "/api/v1/groups/"+groupID+"/payouts"+query, nil, bearer(s.AccessToken))
	res.wantStatus(e.t, http.StatusOK)
	var l listBody[paidBody]
	res.decode(e.t, &l)
	return l
}

func (e *env) payout(f catalogFixture, id string) paidBody {
	e.t.Helper()
	for _, p := range e.payouts(f.group.ID, f.manager, "?limit=100").Data {
		if p.ID == id {
			return p
		}
	}
	e.t.Fatalf("payout %s is not listed", id)
	return paidBody{}
}

// newReceiptFixture is the catalogue fixture with Rs 3,000 owed to each of
// its two artisans.
func newReceiptFixture(e *env) catalogFixture {
	e.t.Helper()
	f := newCatalogFixture(e)
	sell(e, f.group.ID, 3, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 240},
		ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.private.ID), Minutes: 240})
	return f
}

func TestPayoutReceipts(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newReceiptFixture(e)

		// No consent or no number: no receipt and no SMS.
		for i, c := range []struct {
			phone   string
			consent bool
		}{{"", false}, {"", true}, {shaziaPhone, false}} {
			e.withSMS(f.public.ID, c.phone, "ur", c.consent)
			if p := e.pay(f, f.public.ID, 1000, "cash", "none-"+itoa(i)); p.Receipt != nil || p.AcknowledgedBy != nil {
				t.Fatalf("phone %q consent %v: receipt %+v", c.phone, c.consent, p.Receipt)
			}
		}
		if n := e.count("sms_messages", "") + e.count("receipts", ""); n != 0 {
			t.Fatalf("%d receipts and messages without consent and a number", n)
		}

		// Urdu: the receipt, and its SMS in the payout's transaction.
		e.withSMS(f.public.ID, shaziaPhone, "ur", true)
		p := e.pay(f, f.public.ID, 40000, "jazzcash", "ur-1")
		r := p.Receipt
		if r == nil || !codePattern.MatchString(r.Code) || r.Status != "queued" || r.SentAt != nil || r.ConfirmedAt != nil || r.DisputedAt != nil {
			t.Fatalf("receipt %+v", r)
		}
		var m models.SMSMessage
		if err := e.db.Where("kind = ?", "receipt").First(&m).Error; err != nil {
			t.Fatal(err)
		}
		want := "کاریگر: Multan Blue Pottery Women نے آپ کو Rs 400.00 جاز کیش سے بھیجے۔ ملے تو لکھیں ہاں " + r.Code +
			"، نہ ملے تو نہیں " + r.Code
		if m.Body != want || !m.Unicode || m.Status != "queued" || m.ToMasked != "+92300*****67" ||
			m.ArtisanID == nil || m.ArtisanID.String() != f.public.ID || m.GroupID == nil || m.GroupID.String() != f.group.ID {
			t.Fatalf("receipt SMS %+v\nwant body %s", m, want)
		}
		if number, err := e.pii.Open(m.ToSealed); err != nil || number != shaziaPhone {
			t.Fatalf("sent to %q, %v", number, err)
		}
		if strings.Contains(m.ToSealed, "1234567") {
			t.Fatal("the number is in the outbox in clear")
		}
		if e.count("receipts", "payout_id = ? AND message_id = ? AND code = ?", p.ID, m.ID, r.Code) != 1 {
			t.Fatal("the receipt does not name its payout, message and code")
		}

		// A retried request is the same payout with the same receipt and one SMS.
		if again := e.pay(f, f.public.ID, 40000, "jazzcash", "ur-1"); again.ID != p.ID || again.Receipt.Code != r.Code {
			t.Fatalf("retried: %+v", again)
		}
		if e.count("sms_messages", "") != 1 || e.count("receipts", "") != 1 {
			t.Fatal("a retried payout sent a second receipt")
		}

		// Roman Urdu and English are GSM-7.
		e.withSMS(f.private.ID, rukhsanaPhone, "roman_ur", true)
		q := e.pay(f, f.private.ID, 245000, "easypaisa", "roman-1")
		m = models.SMSMessage{}
		e.db.Where("kind = ? AND artisan_id = ?", "receipt", f.private.ID).First(&m)
		want = "Karigar: Multan Blue Pottery Women ne aap ko Rs 2,450.00 Easypaisa se bheje. Mil gaye hon to jawab mein likhein: HAAN " +
			q.Receipt.Code + ". Na mile hon to: NAHI " + q.Receipt.Code + ". Shukriya"
		if m.Body != want || m.Unicode {
			t.Fatalf("Roman Urdu SMS %q unicode %v\nwant %q", m.Body, m.Unicode, want)
		}
		if q.Receipt.Code == r.Code {
			t.Fatal("two receipts have one code")
		}
		e.withSMS(f.private.ID, rukhsanaPhone, "en", true)
		en := e.pay(f, f.private.ID, 5000, "bank", "en-1")
		m = models.SMSMessage{}
		e.db.Where("kind = ? AND artisan_id = ?", "receipt", f.private.ID).Order("id DESC").First(&m)
		want = "Karigar: Multan Blue Pottery Women paid you Rs 50.00 by bank transfer. If you received it, reply HAAN " +
			en.Receipt.Code + ". If not, reply NAHI " + en.Receipt.Code + ". Thank you"
		if m.Body != want || m.Unicode {
			t.Fatalf("English SMS %q\nwant %q", m.Body, want)
		}

		// The receipt follows its message until she answers.
		l := e.payouts(f.group.ID, f.manager, "")
		if len(l.Data) != 6 || l.Data[0].ID != en.ID || l.Data[2].ID != p.ID || l.Data[2].Receipt.Code != r.Code || l.Data[5].Receipt != nil {
			t.Fatalf("payouts listed %+v", l.Data)
		}
		sent := time.Now().UTC().Truncate(time.Second)
		for _, step := range []struct {
			status string
			set    map[string]any
		}{
			{"sent", map[string]any{"status": "sent", "sent_at": sent, "attempts": 1}},
			{"delivered", map[string]any{"status": "delivered", "delivered_at": sent.Add(time.Second)}},
			{"failed", map[string]any{"status": "failed", "failed_at": sent.Add(2 * time.Second)}},
		} {
			// What the sender loop and the delivery reports (the sms branch) write.
			if err := e.db.Model(&models.SMSMessage{}).Where("id = ?", m.ID).Updates(step.set).Error; err != nil {
				t.Fatal(err)
			}
			got := e.payout(f, en.ID).Receipt
			if got.Status != step.status || got.SentAt == nil || *got.SentAt != sent.Format(time.RFC3339) {
				t.Fatalf("after %s: %+v", step.status, got)
			}
		}

		// One artisan's, a page at a time.
		l = e.payouts(f.group.ID, f.auditorAssigned(e), "?artisan_id="+f.public.ID+"&limit=2")
		if len(l.Data) != 2 || l.NextCursor == nil || l.Data[0].ID != p.ID {
			t.Fatalf("first page %+v", l)
		}
		next := e.payouts(f.group.ID, f.auditor, "?artisan_id="+f.public.ID+"&limit=2&cursor="+url.QueryEscape(*l.NextCursor))
		if len(next.Data) != 2 || next.NextCursor != nil || next.Data[0].ID == l.Data[1].ID {
			t.Fatalf("second page %+v", next)
		}
		path := "/api/v1/groups/" + f.group.ID + "/payouts"
		e.do("GET", path+"?cursor="+url.QueryEscape(*l.NextCursor), nil, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
		e.do("GET", path+"?artisan_id=nope", nil, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
		e.do("GET", path, nil).wantError(t, 401, "unauthorized")
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")

		// The statement shows her payouts the same way.
		var st struct {
			Payouts []paidBody `json:"payouts"`
		}
		res := e.do("GET", "/api/v1/artisans/"+f.public.ID+"/statement", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &st)
		if len(st.Payouts) != 4 || st.Payouts[3].ID != p.ID || st.Payouts[3].Receipt == nil || st.Payouts[3].Receipt.Code != r.Code ||
			st.Payouts[0].Receipt != nil {
			t.Fatalf("statement payouts %+v", st.Payouts)
		}
	})
}

// auditorAssigned assigns the fixture's auditor to its group and returns her session.
func (f catalogFixture) auditorAssigned(e *env) session {
	e.t.Helper()
	e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
	return f.auditor
}

func TestReceiptReplies(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newReceiptFixture(e)
		e.withSMS(f.public.ID, shaziaPhone, "ur", true)
		e.withSMS(f.private.ID, rukhsanaPhone, "roman_ur", true)
		first := e.pay(f, f.public.ID, 40000, "jazzcash", "p1")
		second := e.pay(f, f.public.ID, 30000, "cash", "p2")
		hers := e.pay(f, f.private.ID, 20000, "bank", "p3")
		code, code2 := first.Receipt.Code, second.Receipt.Code
		urdu := func(s string) string { // the code in Urdu digits, as her phone may write it
			return strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return '۰' + (r - '0')
				}
				return r
			}, s)
		}
		unchanged := func(id string) {
			t.Helper()
			if p := e.payout(f, id); p.AcknowledgedAt != nil || p.AcknowledgedBy != nil ||
				(p.Receipt.Status != "queued" && p.Receipt.Status != "disputed") {
				t.Fatalf("payout changed: %+v %+v", p, p.Receipt)
			}
		}

		// From another number: nothing changes, and a polite answer in
		// Urdu and English if they fit, else Roman Urdu.
		out := e.text(strangerPhone, "HAAN "+code)
		e.wantReply(out, strangerPhone, "reply", true, code, "کسی اور نمبر", "for another number")
		if out.ArtisanID != nil || out.GroupID == nil || out.GroupID.String() != f.group.ID {
			t.Fatalf("a stranger's reply is listed as %v in %v", out.ArtisanID, out.GroupID)
		}
		// From Rukhsana's number, in her language.
		out = e.text(rukhsanaPhone, "haan "+code)
		e.wantReply(out, rukhsanaPhone, "reply", false, "kisi aur number")
		unchanged(first.ID)

		// Unreadable, or no such code: help.
		e.wantReply(e.text(shaziaPhone, "shukriya"), shaziaPhone, "help", true, "ہاں", "نہیں")
		e.wantReply(e.text(shaziaPhone, "HAAN"), shaziaPhone, "help", true, "ہاں")
		missing := "ZZZZZZZZZZ"
		if missing == code || missing == code2 {
			missing = "YYYYYYYYYY"
		}
		e.wantReply(e.text(shaziaPhone, "HAAN "+missing), shaziaPhone, "help", true, missing, "نہیں ملی")
		e.wantReply(e.text(strangerPhone, "hello"), strangerPhone, "help", false, "HAAN", "NAHI")
		unchanged(first.ID)

		// Hers: ہاں with the code in Urdu digits, written with a hyphen.
		before := time.Now().UTC().Add(-time.Second)
		out = e.text("+92 300 1234567", "ہاں "+urdu(code[:5])+"-"+urdu(code[5:]))
		e.wantReply(out, shaziaPhone, "reply", true, "شکریہ", "Rs 400.00", code)
		if out.ArtisanID == nil || out.ArtisanID.String() != f.public.ID {
			t.Fatalf("her reply is listed as %v", out.ArtisanID)
		}
		p := e.payout(f, first.ID)
		if p.AcknowledgedBy == nil || *p.AcknowledgedBy != "artisan_sms" || p.AcknowledgedAt == nil ||
			p.Receipt.Status != "confirmed" || p.Receipt.ConfirmedAt == nil || p.Receipt.DisputedAt != nil {
			t.Fatalf("confirmed: %+v %+v", p, p.Receipt)
		}
		if at, _ := time.Parse(time.RFC3339Nano, *p.Receipt.ConfirmedAt); at.Before(before) {
			t.Fatalf("confirmed at %s", at)
		}
		if e.count("payouts", "id = ? AND acknowledged_by IS NULL AND acknowledged_as = 'artisan_sms'", first.ID) != 1 ||
			e.count("receipts", "code = ? AND settled_by IS NOT NULL", code) != 1 {
			t.Fatal("her confirmation is not recorded as hers")
		}
		// The route's acknowledgement no longer applies.
		e.do("POST", "/api/v1/payouts/"+first.ID+"/acknowledge", map[string]any{"note": "x"}, bearer(f.manager.AccessToken)).
			wantError(t, 409, "invalid_state")

		// A second answer changes nothing, and says so.
		out = e.text(shaziaPhone, "NAHI "+code)
		e.wantReply(out, shaziaPhone, "reply", true, "پہلے آ چکا ہے", "ہاں")
		if again := e.payout(f, first.ID); again.Receipt.Status != "confirmed" || *again.Receipt.ConfirmedAt != *p.Receipt.ConfirmedAt {
			t.Fatalf("a second answer changed %+v", again.Receipt)
		}

		// نہیں disputes; the payout stays unacknowledged.
		out = e.text(shaziaPhone, "  نہیں   "+strings.ToLower(code2)+" ")
		e.wantReply(out, shaziaPhone, "reply", true, "نہیں ملے", "Rs 300.00")
		d := e.payout(f, second.ID)
		if d.AcknowledgedAt != nil || d.Receipt.Status != "disputed" || d.Receipt.DisputedAt == nil || d.Receipt.ConfirmedAt != nil {
			t.Fatalf("disputed: %+v %+v", d, d.Receipt)
		}
		e.wantReply(e.text(shaziaPhone, "YES "+code2), shaziaPhone, "reply", true, "پہلے آ چکا ہے", "نہیں")
		unchanged(second.ID)

		// In her language: Rukhsana answers in Roman Urdu and is answered so.
		out = e.text(rukhsanaPhone, "Y "+strings.ToLower(hers.Receipt.Code))
		e.wantReply(out, rukhsanaPhone, "reply", false, "Shukriya", "Rs 200.00")
		if p := e.payout(f, hers.ID); p.Receipt.Status != "confirmed" || *p.AcknowledgedBy != "artisan_sms" {
			t.Fatalf("hers: %+v", p)
		}
		if n := e.count("sms_messages", "kind IN ('reply', 'help')"); n != 11 {
			t.Fatalf("%d replies in the outbox, want 11", n)
		}
	})
}

// A manager's acknowledgement on her word stands; her own HAAN afterwards
// shows on the receipt. A manager cannot acknowledge what she disputed; an
// assigned auditor who asks her can.
func TestReceiptAnswersAndAcknowledgements(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newReceiptFixture(e)
		e.withSMS(f.public.ID, shaziaPhone, "en", true)
		early := e.pay(f, f.public.ID, 10000, "cash", "a1")
		disputed := e.pay(f, f.public.ID, 10000, "cash", "a2")
		ack := func(id string, s session) *response {
			return e.do("POST", "/api/v1/payouts/"+id+"/acknowledge", map[string]any{"note": "she told me"}, bearer(s.AccessToken))
		}
		var p paidBody
		res := ack(early.ID, f.manager)
		res.wantStatus(t, 200)
		res.decode(t, &p)
		if p.AcknowledgedBy == nil || *p.AcknowledgedBy != "manager" || p.Receipt == nil || p.Receipt.Status != "queued" {
			t.Fatalf("acknowledged by the manager: %+v", p)
		}
		e.wantReply(e.text(shaziaPhone, "HAAN "+early.Receipt.Code), shaziaPhone, "reply", false, "Thank you")
		if p = e.payout(f, early.ID); *p.AcknowledgedBy != "manager" || p.Receipt.Status != "confirmed" {
			t.Fatalf("after her HAAN: %+v %+v", p, p.Receipt)
		}

		e.wantReply(e.text(shaziaPhone, "NO "+disputed.Receipt.Code), shaziaPhone, "reply", false, "did not receive")
		if e := ack(disputed.ID, f.manager).wantError(t, 409, "invalid_state"); !strings.Contains(e.Error.Message, "disputed") {
			t.Fatalf("message %q", e.Error.Message)
		}
		res = ack(disputed.ID, f.auditorAssigned(e))
		res.wantStatus(t, 200)
		res.decode(t, &p)
		if *p.AcknowledgedBy != "auditor" || p.Receipt.Status != "disputed" {
			t.Fatalf("acknowledged by the auditor: %+v %+v", p, p.Receipt)
		}
		// Every acknowledgement says whose word it is.
		if e.count("payouts", "acknowledged_at IS NOT NULL AND acknowledged_as IS NULL") != 0 {
			t.Fatal("an acknowledgement without whose word it is")
		}
	})
}

type publicReceiptBody struct {
	Code   string `json:"code"`
	Amount money  `json:"amount"`
	Method string `json:"method"`
	PaidAt string `json:"paid_at"`
	Status string `json:"status"`
	Group  struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"group"`
	Proof *wireProof `json:"proof"`
}

// wantNoPersonalData fails if body holds anything that names or reaches the
// artisan: her id, names, number in any form, or the masked number.
func wantNoPersonalData(t *testing.T, body []byte, a artisanBody, phone string) {
	t.Helper()
	text := string(body)
	digits := strings.TrimPrefix(strings.TrimPrefix(phone, "+92"), "0")
	for _, s := range []string{a.ID, strings.ToUpper(a.ID), strings.ReplaceAll(a.ID, "-", ""), a.DisplayName, a.FullName,
		"Secret-Surname", digits, digits[3:], "+92300", "*****"} {
		if strings.Contains(text, s) {
			t.Errorf("a receipt answer holds %q:\n%s", s, text)
		}
	}
}

func TestReceiptCheck(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newReceiptFixture(e)
		e.withSMS(f.public.ID, shaziaPhone, "ur", true)
		p := e.pay(f, f.public.ID, 245000, "easypaisa", "c1")
		code := p.Receipt.Code

		var r publicReceiptBody
		res := e.do("GET", "/api/v1/receipts/"+code, nil)
		res.wantStatus(t, 200)
		res.decode(t, &r)
		if r.Code != code || r.Amount.Amount != 245000 || r.Method != "easypaisa" || r.Status != "queued" ||
			r.Group.ID != f.group.ID || r.Group.Name != "Multan Blue Pottery Women" || r.PaidAt == "" {
			t.Fatalf("receipt %+v", r)
		}
		// The proof that the payment is in the signed books, checked with
		// nothing but the ledger's public key and the documented algorithm.
		if r.Proof == nil {
			t.Fatal("a receipt without its proof")
		}
		if err := checkProof(e.publicKey(), *r.Proof); err != nil {
			t.Fatalf("the receipt's proof does not verify with the public key: %v", err)
		}
		if e.count("payouts", "id = ? AND transaction_id = ?", p.ID, r.Proof.TransactionID) != 1 {
			t.Fatalf("the proof is of transaction %s, not the payout's", r.Proof.TransactionID)
		}
		tampered := *r.Proof
		tampered.TransactionHash = strings.Repeat("0", 64)
		if checkProof(e.publicKey(), tampered) == nil {
			t.Fatal("a proof of another transaction hash verifies")
		}
		wantNoPersonalData(t, res.Body, f.public, shaziaPhone)

		// Read forgivingly: lower case, a hyphen, I and O for 1 and 0, Urdu digits.
		forgiving := strings.ToLower(code[:5]) + "-" + strings.NewReplacer("1", "I", "0", "O", "7", "۷").Replace(code[5:])
		res = e.do("GET", "/api/v1/receipts/"+url.PathEscape(forgiving), nil)
		res.wantStatus(t, 200)
		res.decode(t, &r)
		if r.Code != code {
			t.Fatalf("%q read as %q", forgiving, r.Code)
		}

		// She confirms; the check says so.
		e.text(shaziaPhone, "HAAN "+code)
		res = e.do("GET", "/api/v1/receipts/"+code, nil)
		res.decode(t, &r)
		if r.Status != "confirmed" {
			t.Fatalf("status %q after her HAAN", r.Status)
		}
		wantNoPersonalData(t, res.Body, f.public, shaziaPhone)

		// Unknown codes and anything else are 404.
		for _, bad := range []string{"ZZZZZZZZZZ", "short", "7K9QMZX2VDX", "%D8%A7"} {
			if bad == code {
				continue
			}
			e.do("GET", "/api/v1/receipts/"+bad, nil).wantError(t, 404, "not_found")
		}

		// The page for people: English and Urdu, rupees, Pakistan time, its
		// own policy, and no personal data either.
		page := e.page("/r/" + strings.ToLower(code))
		if page.Code != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("page: %d %s", page.Code, page.Header.Get("Content-Type"))
		}
		text := pageText(page.Body)
		var paid time.Time
		if err := e.db.Model(&models.Payout{}).Select("created_at").Where("id = ?", p.ID).Scan(&paid).Error; err != nil {
			t.Fatal(err)
		}
		pkt := paid.UTC().Add(5 * time.Hour).Format("2 January 2006, 3:04 pm") // Pakistan keeps UTC+5 all year
		for _, want := range []string{"Rs 2,450.00", code, "Multan Blue Pottery Women", "Easypaisa", "ایزی پیسہ", "ادائیگی کی رسید",
			"The artisan confirmed by SMS that the payment arrived.", "کاریگر نے پیغام سے بتایا کہ رقم مل گئی۔", pkt} {
			if !strings.Contains(text, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		csp := page.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "img-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
			}
		}
		if strings.Contains(strings.ToLower(text), "<script") {
			t.Error("the page has a script")
		}
		wantNoPersonalData(t, page.Body, f.public, shaziaPhone)
		if missing := e.page("/r/ZZZZZZZZZZ"); missing.Code != 404 || !strings.Contains(pageText(missing.Body), "یہ رسید نہیں ملی") {
			t.Fatalf("missing page: %d %s", missing.Code, missing.Body)
		}
	})
}

// Ten checks a minute per client address, counted in the database: known
// codes and guesses alike, on every replica, the page and the JSON alike.
func TestReceiptChecksAreLimited(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	eachDB(t, func(t *testing.T, e *env) {
		f := newReceiptFixture(e)
		e.withSMS(f.public.ID, shaziaPhone, "en", true)
		code := e.pay(f, f.public.ID, 1000, "cash", "l1").Receipt.Code

		// Brute force: guesses from one address, then even the right code is refused.
		guesser := from("198.51.100.7")
		for i := range 10 {
			guess := strings.Repeat(string("ABCDEFGHJK"[i]), 10)
			if res := e.do("GET", "/api/v1/receipts/"+guess, nil, guesser); res.Code != 404 && res.Code != 200 {
				t.Fatalf("guess %d: %d", i, res.Code)
			}
		}
		res := e.do("GET", "/api/v1/receipts/"+code, nil, guesser)
		res.wantError(t, 429, "rate_limited")
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
			t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
		}
		if !strings.Contains(res.Header.Get("RateLimit-Policy"), `"receipt-lookups";q=10;w=60`) {
			t.Fatalf("RateLimit-Policy %q", res.Header.Get("RateLimit-Policy"))
		}
		req := httptest.NewRequest("GET", "/r/"+code, nil)
		req.RemoteAddr = "198.51.100.7:40000"
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("the page while limited: %d %q", rec.Code, rec.Header())
		}
		// Another address is not held up; an IPv6 host is one /64.
		e.do("GET", "/api/v1/receipts/"+code, nil, from("203.0.113.9")).wantStatus(t, 200)
		for i := range 11 {
			res := e.do("GET", "/api/v1/receipts/"+code, nil, from("[2001:db8:1:2::"+strconv.Itoa(i+1)+"]"))
			if want := 200; i == 10 {
				res.wantError(t, 429, "rate_limited")
			} else {
				res.wantStatus(t, want)
			}
		}

		// Two replicas on one database share the count: of 24 checks sent at
		// once through both, exactly 10 are answered.
		w := testWiring()
		w.Clocks.Receipts, w.Clocks.Auth = clock, clock
		second, _ := newServer(t, e.db, w, api.Config{DB: e.db, Logger: w.Logger})
		servers := []http.Handler{e.srv.Handler(), second.Handler()}
		codes := make([]int, 24)
		inParallel(24, func(i int) {
			req := httptest.NewRequest("GET", "/api/v1/receipts/"+code, nil)
			req.RemoteAddr = "192.0.2.200:1234"
			rec := httptest.NewRecorder()
			servers[i%2].ServeHTTP(rec, req)
			codes[i] = rec.Code
		})
		answered, limited := 0, 0
		for _, c := range codes {
			switch c {
			case 200:
				answered++
			case 429:
				limited++
			}
		}
		if answered != 10 || limited != 14 {
			t.Fatalf("%d answered and %d limited of 24 (%v)", answered, limited, codes)
		}

		// A minute later the address may check again.
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		e.do("GET", "/api/v1/receipts/"+code, nil, guesser).wantStatus(t, 200)
	}, func(c envConfig) { c.wiring.Clocks.Receipts, c.wiring.Clocks.Auth = clock, clock })
}

func TestDisputes(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newReceiptFixture(e)
		e.withSMS(f.public.ID, shaziaPhone, "ur", true)
		e.withSMS(f.private.ID, rukhsanaPhone, "en", true)
		a := e.pay(f, f.public.ID, 40000, "jazzcash", "d1")
		b := e.pay(f, f.private.ID, 30000, "cash", "d2")
		c := e.pay(f, f.public.ID, 20000, "bank", "d3")
		e.pay(f, f.private.ID, 10000, "cash", "d4") // unanswered
		// Shazia disputes two hours after the payouts; Rukhsana at once.
		later := time.Now().Add(2 * time.Hour)
		e.textAt(shaziaPhone, "NAHI "+a.Receipt.Code, later)
		e.text(rukhsanaPhone, "NO "+b.Receipt.Code)
		e.text(shaziaPhone, "HAAN "+c.Receipt.Code)
		e.withSMS(f.private.ID, "", "en", false)
		e.pay(f, f.private.ID, 10000, "cash", "d5") // no receipt

		path := "/api/v1/groups/" + f.group.ID + "/disputes"
		e.do("GET", path, nil).wantError(t, 401, "unauthorized")
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", path, nil, bearer(f.auditor.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/groups/nope/disputes", nil, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")

		type disputeBody struct {
			Code       string `json:"code"`
			DisputedAt string `json:"disputed_at"`
			Artisan    struct {
				ID          string `json:"id"`
				DisplayName string `json:"display_name"`
			} `json:"artisan"`
			Payout paidBody `json:"payout"`
		}
		var page1, page2 listBody[disputeBody]
		res := e.do("GET", path+"?limit=1", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &page1)
		auditor := f.auditorAssigned(e)
		res = e.do("GET", path+"?limit=1&cursor="+url.QueryEscape(*page1.NextCursor), nil, bearer(auditor.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &page2)
		if len(page1.Data) != 1 || len(page2.Data) != 1 || page2.NextCursor != nil {
			t.Fatalf("pages %+v %+v", page1, page2)
		}
		got := map[string]disputeBody{page1.Data[0].Code: page1.Data[0], page2.Data[0].Code: page2.Data[0]}
		da, db := got[a.Receipt.Code], got[b.Receipt.Code]
		if da.Artisan.DisplayName != "Shazia" || da.Payout.ID != a.ID || da.Payout.Receipt.Status != "disputed" || da.DisputedAt == "" ||
			db.Artisan.ID != f.private.ID || db.Payout.Amount.Amount != 30000 {
			t.Fatalf("disputes %+v", got)
		}
		if page1.Data[0].DisputedAt < page2.Data[0].DisputedAt {
			t.Fatal("disputes are not the latest first")
		}
		e.do("GET", path+"?limit=0", nil, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")

		// The group report: the disputes are findings, and 1 of the 5 payouts
		// was confirmed by its artisan herself.
		var r struct {
			Findings []struct {
				Kind     string `json:"kind"`
				PayoutID string `json:"payout_id"`
				Since    string `json:"since"`
				Check    string `json:"check"`
			} `json:"findings"`
			Payouts struct {
				Made        int `json:"made"`
				WithReceipt int `json:"with_receipt"`
				Confirmed   int `json:"confirmed_by_artisan"`
				Disputed    int `json:"disputed"`
			} `json:"payouts"`
			ConfirmedBPS int64 `json:"artisan_confirmed_bps"`
		}
		report := "/api/v1/audit/groups/" + f.group.ID + "/report"
		res = e.do("GET", report, nil, bearer(auditor.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &r)
		disputed := map[string]string{}
		for _, x := range r.Findings {
			if x.Kind == "disputed_payout" {
				disputed[x.PayoutID] = x.Check
			}
		}
		if len(disputed) != 2 || !strings.Contains(disputed[a.ID], a.Receipt.Code) || !strings.Contains(disputed[b.ID], "NAHI") {
			t.Fatalf("findings %+v", r.Findings)
		}
		if r.Payouts.Made != 5 || r.Payouts.WithReceipt != 4 || r.Payouts.Confirmed != 1 || r.Payouts.Disputed != 2 || r.ConfirmedBPS != 2000 {
			t.Fatalf("payouts %+v, confirmed %d bps", r.Payouts, r.ConfirmedBPS)
		}
		csv := e.do("GET", report+"?format=csv", nil, bearer(f.manager.AccessToken))
		csv.wantStatus(t, 200)
		wantCSVParity(t, res.Body, csv.Body)
		if !strings.Contains(string(csv.Body), "disputed_payout") || !strings.Contains(string(csv.Body), "artisan_confirmed_bps,2000") {
			t.Fatalf("CSV %s", csv.Body)
		}
		// A dispute is a finding in the period of its payout and in the
		// period it was made in.
		inAnHour := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		for _, c := range []struct {
			query    string
			made     int
			disputes []string
		}{
			{"?to=" + inAnHour, 5, []string{b.ID, a.ID}}, // in the order they were disputed
			{"?from=" + inAnHour, 0, []string{a.ID}},
			{"?from=" + url.QueryEscape(later.Add(time.Minute).UTC().Format(time.RFC3339)), 0, nil},
		} {
			r.Findings = nil
			e.do("GET", report+c.query, nil, bearer(auditor.AccessToken)).decode(t, &r)
			var ids []string
			for _, x := range r.Findings {
				if x.Kind == "disputed_payout" {
					ids = append(ids, x.PayoutID)
				}
			}
			if r.Payouts.Made != c.made || strings.Join(ids, ",") != strings.Join(c.disputes, ",") {
				t.Errorf("%s: %d payouts, disputes %v; want %d, %v", c.query, r.Payouts.Made, ids, c.made, c.disputes)
			}
		}

		// The impact report gives the share too, with no names or ids.
		res = e.do("GET", "/api/v1/audit/impact", nil, bearer(auditor.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &r)
		if r.Payouts.Made != 5 || r.ConfirmedBPS != 2000 {
			t.Fatalf("impact payouts %+v, %d bps", r.Payouts, r.ConfirmedBPS)
		}
		wantNoPersonalData(t, res.Body, f.public, shaziaPhone)
	}, func(c envConfig) {
		c.wiring.Clocks.Receipts = func() time.Time { return time.Now().Add(3 * time.Hour) }
	})
}

// HAAN and NAHI for one receipt handled at once (two deliveries of her
// answers, on two replicas): exactly one is recorded, the others are told it
// was answered already, and the payout is acknowledged exactly when HAAN won.
func TestReceiptAnswersAtOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newReceiptFixture(e)
		e.withSMS(f.public.ID, shaziaPhone, "en", true)
		for round := range 4 {
			p := e.pay(f, f.public.ID, 1000, "cash", "race-"+itoa(round))
			replies := make([]*sms.Outgoing, 6)
			errs := make([]error, 6)
			inParallel(6, func(i int) {
				answer := []string{"HAAN ", "NAHI "}[i%2]
				replies[i], errs[i] = e.handleSMS(shaziaPhone, answer+p.Receipt.Code, time.Now())
			})
			recorded, already := 0, 0
			for i, r := range replies {
				switch {
				case errs[i] != nil || r == nil:
					t.Fatalf("answer %d: %v", i, errs[i])
				case strings.HasPrefix(r.Text, "Thank you!") || strings.HasPrefix(r.Text, "We have recorded"):
					recorded++
				case strings.Contains(r.Text, "already answered"):
					already++
				}
			}
			got := e.payout(f, p.ID)
			acked := got.AcknowledgedBy != nil && *got.AcknowledgedBy == "artisan_sms"
			if recorded != 1 || already != 5 || acked != (got.Receipt.Status == "confirmed") ||
				(got.Receipt.Status != "confirmed" && got.Receipt.Status != "disputed") {
				t.Fatalf("round %d: %d recorded, %d told it was answered; payout %+v %+v", round, recorded, already, got, got.Receipt)
			}
		}
	})
}
