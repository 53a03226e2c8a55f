package receipts

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/sms"
)

// maxSenders bounds the artisans one number is looked up as: a number
// shared in a family may belong to several, and the first (by id) chooses
// the language of a reply that concerns none of them.
const maxSenders = 20

// Reply is an sms.Handler: it reads an inbound SMS as an artisan's answer
// to her receipt and records it inside tx, the transaction that records the
// message (so that a message delivered twice is handled once).
//
//   - HAAN <code> from the number of the artisan the receipt is for confirms
//     it, and acknowledges the payout as hers (acknowledged_as
//     artisan_sms) unless it was acknowledged already; NAHI <code> disputes
//     it. Either is final: a later answer changes nothing and is told so.
//   - From any other number nothing changes, and the sender is told politely
//     that the receipt is for another number.
//   - A code no receipt has, or a text that is no answer, gets a help message.
//
// The sender is matched by the keyed hash of her number (pii.Box.Lookup)
// against the artisan's, never by decrypting numbers. Replies are in her
// language; to a number that is no artisan's, in Urdu and English when both
// fit two segments, else in Roman Urdu. A message with no sender gets no
// reply.
func (s *Service) Reply(ctx context.Context, tx *gorm.DB, in sms.Inbound) (*sms.Outgoing, error) {
	from := strings.TrimSpace(in.From)
	if s.opt.Box == nil || from == "" {
		return nil, nil
	}
	tx = tx.WithContext(ctx)
	lookup := s.opt.Box.Lookup(from)
	var senders []models.Artisan
	if err := tx.Select("id, group_id, language").Where("phone_lookup = ?", lookup).Order("id").Limit(maxSenders).
		Find(&senders).Error; err != nil {
		return nil, err
	}
	to := replyTo{from: from}
	if len(senders) > 0 {
		to.lang, to.group, to.artisan = language(senders[0].Language), &senders[0].GroupID, &senders[0].ID
	}

	answer, code := ParseReply(in.Text)
	if answer == NoAnswer || code == "" {
		return s.reply(to, KindHelp, replyHelp, "", models.Money{})
	}
	var rc struct {
		models.Receipt
		PhoneLookup     *string
		ArtisanLanguage string
		Amount          int64
		Currency        string
	}
	if err := tx.Table("receipts r").Select("r.*, a.phone_lookup, a.language AS artisan_language, p.amount, p.currency").
		Joins("JOIN artisans a ON a.id = r.artisan_id").Joins("JOIN payouts p ON p.id = r.payout_id").
		Where("r.code = ?", code).Limit(1).Scan(&rc).Error; err != nil {
		return nil, err
	}
	if rc.ID == uuid.Nil {
		return s.reply(to, KindHelp, replyUnknownCode, code, models.Money{})
	}
	amount := models.NewMoney(rc.Amount, rc.Currency)
	if rc.PhoneLookup == nil || *rc.PhoneLookup != lookup {
		// Not hers: the message belongs in her group's list, as a sign that
		// someone holds her code; its sender is no one of hers.
		to.group = &rc.GroupID
		return s.reply(to, KindReply, replyOtherNumber, rc.Code, amount)
	}
	to.lang, to.group, to.artisan = language(rc.ArtisanLanguage), &rc.GroupID, &rc.ArtisanID
	if rc.ArtisanLanguage == "" {
		to.lang = language(rc.Language)
	}

	at := s.now()
	if r := in.ReceivedAt.UTC().Truncate(time.Microsecond); !r.IsZero() && r.Before(at) {
		at = r // when she answered, if the gateway says so
	}
	column, kind := "confirmed_at", replyConfirmed
	if answer == No {
		column, kind = "disputed_at", replyDisputed
	}
	var gatewayID *string
	if in.GatewayID != "" {
		gatewayID = &in.GatewayID
	}
	res := tx.Model(&models.Receipt{}).Where("id = ? AND confirmed_at IS NULL AND disputed_at IS NULL", rc.ID).
		Updates(map[string]any{column: at, "settled_by": gatewayID})
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 { // answered before: say how, change nothing
		var settled models.Receipt
		if err := tx.Where("id = ?", rc.ID).Take(&settled).Error; err != nil {
			return nil, err
		}
		kind = replyAlreadyYes
		if settled.DisputedAt != nil {
			kind = replyAlreadyNo
		}
		return s.reply(to, KindReply, kind, rc.Code, amount)
	}
	if answer == Yes {
		note := "she answered HAAN to receipt " + rc.Code + " by SMS"
		if err := tx.Model(&models.Payout{}).Where("id = ? AND acknowledged_at IS NULL", rc.PayoutID).
			Updates(map[string]any{"acknowledged_at": at, "acknowledged_as": models.AckArtisanSMS,
				"acknowledgement_note": note}).Error; err != nil {
			return nil, err
		}
	}
	return s.reply(to, KindReply, kind, rc.Code, amount)
}

// replyTo is whom a reply goes to and whose list it belongs in.
type replyTo struct {
	from           string
	lang           string // "": the sender is no known artisan
	group, artisan *uuid.UUID
}

// reply is the outgoing answer to the sender, her number sealed.
func (s *Service) reply(to replyTo, kind string, r replyKind, code string, amount models.Money) (*sms.Outgoing, error) {
	text := replyText(r, to.lang, to.lang == "", code, amount)
	number := to.from
	if n, ok := pii.NormalisePhone(number); ok {
		number = n
	}
	sealed, err := s.opt.Box.Seal(number)
	if err != nil {
		return nil, err
	}
	return &sms.Outgoing{GroupID: to.group, ArtisanID: to.artisan, Kind: kind, ToSealed: sealed, ToMasked: pii.Mask(number),
		Text: text.Body, Unicode: text.Unicode}, nil
}
