package receipts

import (
	"strings"
	"unicode"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// The limits of two concatenated SMS segments: a concatenated segment
// holds 153 GSM-7 septets or 67 UCS-2 characters (the rest of its 140
// bytes is the header that joins the parts).
const (
	MaxGSM7Septets = 2 * 153
	MaxUCS2Units   = 2 * 67
)

// gsm7Basic is the GSM 03.38 default alphabet (one septet each; 0x1B, the
// escape to the extension table, left out); gsm7Extension is the extension
// table, whose characters take two septets.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "\f^{}\\[~]|€"
)

// Septets is the length of s in GSM-7 septets, extension characters
// counting two; ok is false if s holds a character GSM-7 cannot carry.
func Septets(s string) (n int, ok bool) {
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			n++
		case strings.ContainsRune(gsm7Extension, r):
			n += 2
		default:
			return n, false
		}
	}
	return n, true
}

// UCS2Units is the length of s in UCS-2 (UTF-16) code units, as the network
// counts a Unicode message: a character outside the Basic Multilingual
// Plane (an emoji) takes two.
func UCS2Units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Text is an SMS as it is to be sent: in UCS-2 when Unicode, else GSM-7.
type Text struct {
	Body    string
	Unicode bool
}

// Length is the text's length in its encoding, and whether it can be sent
// in it at all.
func (t Text) Length() (int, bool) {
	if t.Unicode {
		return UCS2Units(t.Body), true
	}
	return Septets(t.Body)
}

// Fits reports whether the text goes in two segments of its encoding.
func (t Text) Fits() bool {
	n, ok := t.Length()
	if t.Unicode {
		return n <= MaxUCS2Units
	}
	return ok && n <= MaxGSM7Septets
}

// cleanName makes a group's name fit to be quoted in an SMS: control
// characters and line breaks become spaces, marks that steer the direction
// of text are dropped (they could make the message read as something else),
// and runs of spaces become one.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case isBidiMark(r):
			return -1
		case unicode.IsControl(r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) || unicode.IsSpace(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// gsmFolds are characters that GSM-7 lacks but has a stand-in for.
var gsmFolds = map[rune]string{
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '`': "'", '´': "'",
	'“': `"`, '”': `"`, '„': `"`, '«': `"`, '»': `"`,
	'–': "-", '—': "-", '―': "-", '‐': "-", '‑': "-", '−': "-",
	'…': "...", '•': "-", '·': "-",
}

// toGSM7 writes a name in GSM-7: characters it has stay, accented letters it
// lacks lose their accents, typographic quotes and dashes become plain
// ones, and anything else (Urdu script, emoji) is left out. ok is false when
// nothing readable is left.
func toGSM7(name string) (string, bool) {
	var b strings.Builder
	for _, r := range name {
		if _, ok := Septets(string(r)); ok {
			b.WriteRune(r)
			continue
		}
		if f, ok := gsmFolds[r]; ok {
			b.WriteString(f)
			continue
		}
		// An accented letter: its base letter, if GSM-7 has that.
		for _, d := range norm.NFD.String(string(r)) {
			if _, ok := Septets(string(d)); ok && unicode.IsLetter(d) {
				b.WriteRune(d)
				break
			}
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	return out, strings.ContainsFunc(out, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
}

// shorten cuts s to at most budget units of length (as measure counts
// them), ending it with ellipsis when it had to be cut: at the last space if
// that keeps most of the room, else between two characters. The same name
// and budget always give the same result.
func shorten(s string, budget int, measure func(string) int, ellipsis string) string {
	if measure(s) <= budget {
		return s
	}
	room := budget - measure(ellipsis)
	if room <= 0 {
		return ""
	}
	rs := []rune(s)
	n, used := 0, 0
	for n < len(rs) {
		w := measure(string(rs[n]))
		if used+w > room {
			break
		}
		used += w
		n++
	}
	cut := string(rs[:n])
	if i := strings.LastIndex(cut, " "); i > 0 && measure(cut[:i]) >= room*3/5 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ") + ellipsis
}

func septetsOf(s string) int {
	n, _ := Septets(s)
	return n
}
