package api

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/page"
	"github.com/karigar/karigar/services/receipts"
)

// receiptResponse is a payout's receipt as the payout shows it.
type receiptResponse struct {
	Code        string     `json:"code"`
	Status      string     `json:"status"`
	SentAt      *time.Time `json:"sent_at"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
	DisputedAt  *time.Time `json:"disputed_at"`
}

func toReceipt(r receipts.State) *receiptResponse {
	return &receiptResponse{Code: r.Code, Status: r.Status, SentAt: utc(r.SentAt), ConfirmedAt: utc(r.ConfirmedAt),
		DisputedAt: utc(r.DisputedAt)}
}

type disputeArtisan struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
}

type disputeResponse struct {
	Code       string         `json:"code"`
	DisputedAt time.Time      `json:"disputed_at"`
	Artisan    disputeArtisan `json:"artisan"`
	Payout     payoutResponse `json:"payout"`
}

func (s *Server) listDisputes(c *gin.Context) {
	groupID, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	ds, next, err := s.rcpt.Disputes(c.Request.Context(), actorOf(c), groupID, c.Query("cursor"), limit)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(ds, next, func(d receipts.Dispute) disputeResponse {
		return disputeResponse{Code: d.Code, DisputedAt: d.DisputedAt, Artisan: disputeArtisan{ID: d.Payout.ArtisanID.String(),
			DisplayName: d.DisplayName}, Payout: toPayout(d.Payout, &d.Receipt)}
	}))
}

type receiptGroup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// publicReceiptResponse is a receipt as anyone holding its code sees it:
// no name, phone number or artisan id.
type publicReceiptResponse struct {
	Code   string       `json:"code"`
	Amount models.Money `json:"amount"`
	Method string       `json:"method"`
	PaidAt time.Time    `json:"paid_at"`
	Status string       `json:"status"`
	Group  receiptGroup `json:"group"`
	Proof  *proofBody   `json:"proof"`
}

func toPublicReceipt(r receipts.Public) publicReceiptResponse {
	out := publicReceiptResponse{Code: r.Code, Amount: r.Amount, Method: r.Method, PaidAt: r.PaidAt.UTC(), Status: r.Status,
		Group: receiptGroup{ID: r.GroupID.String(), Name: r.GroupName}}
	if r.Proof != nil {
		p := toProof(*r.Proof)
		out.Proof = &p
	}
	return out
}

func (s *Server) getReceipt(c *gin.Context) {
	r, err := s.rcpt.Public(c.Request.Context(), c.ClientIP(), c.Param("code"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toPublicReceipt(r))
}

// The receipt page is /r/{code}: what a person holding a receipt's code
// (the artisan, her family, a visiting auditor) opens on any phone. Plain
// HTML with no scripts and no images, in English and Urdu, under the same
// limit on checks as GET /receipts/{code}.

//go:embed receipt_page.html
var receiptPageText string

var receiptPageTemplates = template.Must(template.New("receipt page").Parse(receiptPageText))

var receiptPageCSP = func() string {
	var buf bytes.Buffer
	if err := receiptPageTemplates.ExecuteTemplate(&buf, "style", nil); err != nil {
		panic(err)
	}
	csp, err := pageCSP(buf.Bytes(), "'none'")
	if err != nil {
		panic(err)
	}
	return csp
}()

type receiptView struct {
	Code, Amount, Group, Method, MethodUrdu, PaidAt string
	Status, StatusUrdu, StatusClass                 string
	Proof                                           *proofView
	PublicKeyURL, JSONURL                           string
}

type proofView struct {
	TransactionHash, Chain       string
	Sequence                     int64
	Steps                        int
	CheckpointHead, CheckpointAt string
	CheckpointSequence           int64
}

type receiptNotice struct {
	PageTitle, Heading, HeadingUrdu, Text, TextUrdu string
}

var (
	methodNames     = map[string][2]string{"bank": {"Bank transfer", "بینک"}, "jazzcash": {"JazzCash", "جاز کیش"}, "easypaisa": {"Easypaisa", "ایزی پیسہ"}, "cash": {"Cash", "نقد"}}
	receiptStatuses = map[string][2]string{
		models.SMSQueued:        {"The receipt SMS to the artisan is waiting to be sent.", "کاریگر کو رسید کا پیغام ابھی بھیجا جانا ہے۔"},
		models.SMSSent:          {"The receipt SMS was sent to the artisan; no answer yet.", "کاریگر کو رسید کا پیغام بھیج دیا گیا، جواب ابھی نہیں آیا۔"},
		models.SMSDelivered:     {"The receipt SMS reached the artisan's phone; no answer yet.", "رسید کا پیغام کاریگر کے فون پر پہنچ گیا، جواب ابھی نہیں آیا۔"},
		models.SMSFailed:        {"The receipt SMS could not be delivered to the artisan.", "رسید کا پیغام کاریگر تک نہیں پہنچ سکا۔"},
		models.ReceiptConfirmed: {"The artisan confirmed by SMS that the payment arrived.", "کاریگر نے پیغام سے بتایا کہ رقم مل گئی۔"},
		models.ReceiptDisputed:  {"The artisan said by SMS that the payment did not arrive.", "کاریگر نے پیغام سے بتایا کہ رقم نہیں ملی۔"},
	}
	receiptMissing = receiptNotice{PageTitle: "Receipt not found", Heading: "We can't find this receipt",
		HeadingUrdu: "یہ رسید نہیں ملی", Text: "Check the code in the SMS: it has 10 letters and numbers.",
		TextUrdu: "پیغام میں کوڈ دوبارہ دیکھیں: اس میں 10 حروف اور ہندسے ہیں۔"}
)

// receiptPage renders a receipt for people; an unknown code gets the HTML
// 404 page, too many checks the HTML 429 page with Retry-After.
func (s *Server) receiptPage(c *gin.Context) {
	r, err := s.rcpt.Public(c.Request.Context(), c.ClientIP(), c.Param("code"))
	switch e, ok := services.AsError(err); {
	case err == nil:
	case ok && e.Code == services.CodeNotFound:
		renderReceiptPage(c, http.StatusNotFound, "notice", receiptMissing)
		return
	case ok && e.Code == services.CodeRateLimited:
		c.Header("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
		renderReceiptPage(c, http.StatusTooManyRequests, "notice", receiptNotice{PageTitle: "Too many checks",
			Heading: "Too many checks from here", HeadingUrdu: "یہاں سے بہت زیادہ کوششیں",
			Text: "Please wait a minute and try again.", TextUrdu: "ایک منٹ بعد دوبارہ کوشش کریں۔"})
		return
	default:
		writeError(c, err)
		return
	}
	method := methodNames[r.Method]
	status := receiptStatuses[r.Status]
	v := receiptView{Code: r.Code, Amount: rupees(r.Amount.Amount, r.Amount.Currency), Group: r.GroupName,
		Method: method[0], MethodUrdu: method[1], PaidAt: r.PaidAt.In(models.Karachi).Format("2 January 2006, 3:04 pm"),
		Status: status[0], StatusUrdu: status[1], StatusClass: r.Status,
		PublicKeyURL: s.public + Base + "/audit/ledger/public-key", JSONURL: s.public + Base + "/receipts/" + r.Code}
	if p := toPublicReceipt(r).Proof; p != nil {
		v.Proof = &proofView{TransactionHash: p.TransactionHash, Chain: p.Chain, Sequence: p.Sequence, Steps: len(p.Path),
			CheckpointHead: p.Checkpoint.HeadHash, CheckpointSequence: p.Checkpoint.Sequence,
			CheckpointAt: p.Checkpoint.CreatedAt.In(models.Karachi).Format("2 January 2006, 3:04 pm")}
	}
	renderReceiptPage(c, http.StatusOK, "receipt", v)
}

func renderReceiptPage(c *gin.Context, status int, name string, view any) {
	var buf bytes.Buffer
	if err := receiptPageTemplates.ExecuteTemplate(&buf, name, view); err != nil {
		writeError(c, err)
		return
	}
	c.Header("Content-Security-Policy", receiptPageCSP)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
