package statements

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/karigar/karigar/models"
)

// Tag begins every statement's signed message.
const Tag = "karigar/income-statement/v1"

// Encode is the canonical encoding of a statement, the message its
// signature covers. Every value is written as text, each preceded by its
// length in bytes as an unsigned varint (encoding/binary's, as protobuf
// writes it), in this order:
//
//	Tag
//	subject: kind, id, name, group id, group name, district, province
//	period: from, to
//	the number of months, in decimal
//	each month: month ("2026-01"), sales, earned, paid, hours
//	totals: sales, earned, paid, hours
//	issued_at
//
// An amount is two values, its minor units in decimal and its currency
// ("245000", "PKR"); hours are a decimal with two places ("12.50"); ids are
// lower-case UUIDs; times are RFC 3339 in UTC, with a fraction of a second
// only when there is one (Go's time.RFC3339Nano). The JSON's spelling does
// not matter (key order, spaces, "12.5" for 12.50): the values do, and a
// change to any of them changes the message.
func Encode(st Statement) []byte {
	var b []byte
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	money := func(m models.Money) {
		str(strconv.FormatInt(m.Amount, 10))
		str(m.Currency)
	}
	figures := func(f Figures) {
		money(f.Sales)
		money(f.Earned)
		money(f.Paid)
		str(FormatHours(f.Hours))
	}
	when := func(t time.Time) { str(t.UTC().Format(time.RFC3339Nano)) }
	str(Tag)
	sub := st.Subject
	for _, v := range []string{sub.Kind, sub.ID.String(), sub.Name, sub.GroupID.String(), sub.GroupName, sub.District, sub.Province} {
		str(v)
	}
	when(st.From)
	when(st.To)
	str(strconv.Itoa(len(st.Months)))
	for _, m := range st.Months {
		str(m.Month)
		figures(m.Figures)
	}
	figures(st.Totals)
	when(st.IssuedAt)
	return b
}

// FormatHours writes hundredths of an hour as a decimal with two places:
// 1250 → "12.50", -5 → "-0.05".
func FormatHours(hundredths int64) string {
	sign := ""
	if hundredths < 0 {
		sign, hundredths = "-", -hundredths
	}
	return fmt.Sprintf("%s%d.%02d", sign, hundredths/100, hundredths%100)
}

// ParseHours reads a decimal with at most two places as hundredths of an
// hour: "12.5" → 1250. Errors: anything else.
func ParseHours(s string) (int64, error) {
	bad := fmt.Errorf("hours %q must be a number with at most two decimal places", s)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	whole, frac := s, ""
	for i := range len(s) {
		if s[i] == '.' {
			whole, frac = s[:i], s[i+1:]
			break
		}
	}
	if whole == "" || len(frac) > 2 || (len(frac) == 0 && len(whole) < len(s)) {
		return 0, bad
	}
	for len(frac) < 2 {
		frac += "0"
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, bad
			}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1<<50 {
		return 0, bad
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	n := w*100 + f
	if neg {
		n = -n
	}
	return n, nil
}
