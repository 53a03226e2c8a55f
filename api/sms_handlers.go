package api

import (
	"context"
	"net/http"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/sms"
)

// smsAck is the whole answer to Kannel's callbacks: Kannel reads only the
// status (and, with the max-messages 0 of the shipped configuration, texts
// nothing back), so the body only tells a person what happened.
type smsAck struct {
	Outcome string `json:"outcome"`
}

// smsField is a callback's field from the form body (POST) or the query.
func smsField(c *gin.Context, name string) string {
	if v, ok := c.GetPostForm(name); ok {
		return v
	}
	return c.Query(name)
}

// smsInbound is Kannel's sms-service calling with a message from a phone:
// from (%p), text (%a) and id (%I), and the shared secret as the
// X-Karigar-SMS-Token header or the token field. A new message is 202, one
// handled before or one with nothing to handle 200: never 201 or 204,
// which Kannel takes for failures and calls again.
func (s *Server) smsInbound(c *gin.Context) {
	token := c.GetHeader("X-Karigar-SMS-Token")
	if token == "" {
		token = smsField(c, "token")
	}
	if !s.sms.InboundTokenValid(token) {
		writeError(c, services.Unauthorized("the SMS gateway's token is missing or wrong"))
		return
	}
	in := sms.Inbound{GatewayID: smsField(c, "id"), From: smsField(c, "from"), Text: smsText(smsField(c, "text"))}
	outcome, err := s.sms.Receive(c.Request.Context(), in)
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusOK
	if outcome == sms.Accepted {
		status = http.StatusAccepted
	}
	c.JSON(status, smsAck{Outcome: string(outcome)})
}

// smsText is the text as UTF-8. Kannel recodes a UCS-2 message to UTF-8
// when its smsbox has mo-recode = true; without it the text comes as
// UTF-16 bytes, which are read as such here rather than lost.
func smsText(raw string) string {
	if utf8.ValidString(raw) || len(raw)%2 != 0 {
		return raw
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	return string(utf16.Decode(units))
}

// smsDLR is Kannel's delivery report of one message: the id and token of
// the URL the sender gave Kannel, and the report's type (%d). A valid
// token is answered 200 whatever the report says.
func (s *Server) smsDLR(c *gin.Context) {
	id, err := uuid.Parse(smsField(c, "id"))
	if err != nil || !s.sms.DLRTokenValid(id, smsField(c, "token")) {
		writeError(c, services.Unauthorized("the delivery report's token is missing or wrong"))
		return
	}
	typ, err := strconv.Atoi(smsField(c, "type"))
	if err != nil {
		typ = 0 // no type Kannel sends: changes nothing
	}
	outcome, err := s.sms.Report(c.Request.Context(), id, typ)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, smsAck{Outcome: string(outcome)})
}

// smsMessage is an outbox message as a group's managers and auditors see
// it: the number masked, and not the text.
type smsMessage struct {
	ID          string     `json:"id"`
	ArtisanID   *string    `json:"artisan_id"`
	Kind        string     `json:"kind"`
	To          string     `json:"to"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	LastError   *string    `json:"last_error"`
	CreatedAt   time.Time  `json:"created_at"`
	SentAt      *time.Time `json:"sent_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	FailedAt    *time.Time `json:"failed_at"`
}

func toSMSMessage(m sms.Message) smsMessage {
	out := smsMessage{ID: m.ID.String(), Kind: m.Kind, To: m.ToMasked, Status: m.Status, Attempts: m.Attempts,
		LastError: m.LastError, CreatedAt: m.CreatedAt.UTC(), SentAt: utc(m.SentAt), DeliveredAt: utc(m.DeliveredAt),
		FailedAt: utc(m.FailedAt)}
	if m.ArtisanID != nil {
		a := m.ArtisanID.String()
		out.ArtisanID = &a
	}
	return out
}

func (s *Server) groupMessages(c *gin.Context) {
	status := c.Query("status")
	pageUnder(c, func(ctx context.Context, actor services.Actor, id uuid.UUID, cursor string, limit int) ([]sms.Message, string, error) {
		return s.sms.List(ctx, actor, id, status, cursor, limit)
	}, toSMSMessage)
}
