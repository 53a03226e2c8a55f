package receipts

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/karigar/karigar/models"
)

// maxGroupName is the longest name a group may have (services/groups).
const maxGroupName = 120

// The largest payout the ledger takes (1e18 paisa), in rupees and in a
// currency written with its three-letter code, which is one character longer.
var largest = []models.Money{models.NewMoney(1_000_000_000_000_000_000, "PKR"), models.NewMoney(1_000_000_000_000_000_000, "USD")}

// longNames are group names of the longest length allowed, each the worst
// case of something: plain letters, GSM-7 extension characters (two septets
// each), Urdu script (which GSM-7 cannot carry at all), emoji (two UCS-2
// units each), words with spaces, and marks that steer the direction of text.
var longNames = map[string]string{
	"latin":     strings.Repeat("W", maxGroupName),
	"extension": strings.Repeat("{", maxGroupName),
	"urdu":      strings.Repeat("ک", maxGroupName),
	"emoji":     strings.Repeat("🧵", maxGroupName),
	"words":     strings.Repeat("Rilli Quilt ", maxGroupName/12),
	"mixed":     strings.Repeat("Ä€ڈ😀“", maxGroupName/5),
	"bidi":      strings.Repeat("\u202eAB\n", maxGroupName/4),
}

var methods = []string{"bank", "jazzcash", "easypaisa", "cash"}

func TestReceiptTextsFitTwoSegmentsAtTheLimits(t *testing.T) {
	code := "7K9QMZX2VD"
	for _, lang := range Languages {
		for nameKind, name := range longNames {
			if utf8.RuneCountInString(name) > maxGroupName {
				t.Fatalf("%s name is longer than a group's name may be", nameKind)
			}
			for _, amount := range largest {
				for _, method := range methods {
					text := ReceiptText(lang, name, amount, method, code)
					n, ok := text.Length()
					if !ok || !text.Fits() {
						t.Errorf("%s, %s name, %s by %s: %d units (ok %v), over two segments:\n%s", lang, nameKind, amount, method, n, ok, text.Body)
					}
					if text.Unicode != (lang == Urdu) {
						t.Errorf("%s sent with Unicode=%v", lang, text.Unicode)
					}
					if strings.Count(text.Body, code) != 2 || !strings.Contains(text.Body, amount.String()) ||
						!strings.Contains(text.Body, methodPhrases[lang][method]) {
						t.Errorf("%s: the code twice, the amount and the method are not all there:\n%s", lang, text.Body)
					}
					if strings.ContainsAny(text.Body, "\u202e\u202a\u2066") {
						t.Errorf("%s: a direction mark reached the message", lang)
					}
					// Some of the group's name is always left, however long the rest.
					if named := groupPart(t, lang, text.Body, amount, method, code); units(lang, named) < 8 {
						t.Errorf("%s, %s name, %s: only %q of the group's name is left", lang, nameKind, amount, named)
					}
					if again := ReceiptText(lang, name, amount, method, code); again != text {
						t.Errorf("%s: the same receipt written twice differs", lang)
					}
				}
			}
		}
	}
}

// units is the length of s in lang's encoding.
func units(lang, s string) int {
	if lang == Urdu {
		return UCS2Units(s)
	}
	return septetsOf(s)
}

// groupPart is what the message says in the group's place.
func groupPart(t *testing.T, lang, body string, amount models.Money, method, code string) string {
	t.Helper()
	tmpl := strings.NewReplacer("{amount}", amount.String(), "{method}", methodPhrases[lang][method], "{code}", code).
		Replace(receiptTemplates[lang])
	before, after, _ := strings.Cut(tmpl, "{group}")
	if !strings.HasPrefix(body, before) || !strings.HasSuffix(body, after) {
		t.Fatalf("%s: the message is not its template:\n%s", lang, body)
	}
	return body[len(before) : len(body)-len(after)]
}

func TestReceiptTextOfAnOrdinaryPayout(t *testing.T) {
	amount := models.NewMoney(245000, "PKR")
	for lang, want := range map[string]string{
		Urdu:      "کاریگر: Multan Blue Pottery Women نے آپ کو Rs 2,450.00 جاز کیش سے بھیجے۔ ملے تو لکھیں ہاں 7K9QMZX2VD، نہ ملے تو نہیں 7K9QMZX2VD",
		RomanUrdu: "Karigar: Multan Blue Pottery Women ne aap ko Rs 2,450.00 JazzCash se bheje. Mil gaye hon to jawab mein likhein: HAAN 7K9QMZX2VD. Na mile hon to: NAHI 7K9QMZX2VD. Shukriya",
		English:   "Karigar: Multan Blue Pottery Women paid you Rs 2,450.00 by JazzCash. If you received it, reply HAAN 7K9QMZX2VD. If not, reply NAHI 7K9QMZX2VD. Thank you",
	} {
		got := ReceiptText(lang, "  Multan Blue\tPottery Women ", amount, "jazzcash", "7K9QMZX2VD")
		if got.Body != want {
			t.Errorf("%s:\n got %s\nwant %s", lang, got.Body, want)
		}
		n, _ := got.Length()
		t.Logf("%s: %d of %d", lang, n, map[bool]int{true: MaxUCS2Units, false: MaxGSM7Septets}[got.Unicode])
	}
}

func TestGroupNamesInGSM7(t *testing.T) {
	amount := models.NewMoney(100, "PKR")
	for name, want := range map[string]string{
		"Sindhi Rilli — Hālā’s Women": "Sindhi Rilli - Hala's Women",
		"ملتان کاریگر":                "your group", // nothing GSM-7 can write: the message says "your group"
		"Café Ayesha 🧵":               "Café Ayesha",
		"Ayesha\u202e's Group":        "Ayesha's Group",
	} {
		body := ReceiptText(English, name, amount, "cash", "7K9QMZX2VD").Body
		if !strings.HasPrefix(body, "Karigar: "+want+" paid you") {
			t.Errorf("%q: %s", name, body)
		}
	}
	if body := ReceiptText(RomanUrdu, "ملتان کاریگر", amount, "cash", "7K9QMZX2VD").Body; !strings.HasPrefix(body, "Karigar: aap ke group ne aap ko") {
		t.Errorf("Roman Urdu with an Urdu-only name: %s", body)
	}
	// Urdu keeps the name as it is written.
	if body := ReceiptText(Urdu, "ملتان کاریگر", amount, "cash", "7K9QMZX2VD").Body; !strings.Contains(body, "ملتان کاریگر نے") {
		t.Errorf("Urdu: %s", body)
	}
}

func TestReplyTextsFitTwoSegments(t *testing.T) {
	code := "7K9QMZX2VD"
	for kind := range replyKinds {
		for _, lang := range Languages {
			for _, amount := range largest {
				text := replyText(kind, lang, false, code, amount)
				if !text.Fits() || text.Unicode != (lang == Urdu) {
					n, _ := text.Length()
					t.Errorf("reply %d in %s: %d units, Unicode %v:\n%s", kind, lang, n, text.Unicode, text.Body)
				}
				if replyTemplates[kind][lang] == "" {
					t.Errorf("reply %d has no %s text", kind, lang)
				}
			}
		}
		// To a stranger: Urdu and English together when they fit, else Roman Urdu.
		text := replyText(kind, "", true, code, largest[1])
		if !text.Fits() {
			t.Errorf("reply %d to a stranger does not fit:\n%s", kind, text.Body)
		}
		both := replyTemplates[kind][Urdu] + "\n" + replyTemplates[kind][English]
		if text.Unicode {
			if !strings.Contains(text.Body, "\n") {
				t.Errorf("reply %d to a stranger in Unicode is not in both languages", kind)
			}
		} else if UCS2Units(both) <= MaxUCS2Units-30 {
			t.Errorf("reply %d to a stranger fell back to Roman Urdu though both languages fit", kind)
		}
	}
}

func TestSegmentArithmetic(t *testing.T) {
	if n, ok := Septets("Rs 2,450.00 {x}€"); !ok || n != 19 {
		t.Fatalf("septets %d %v, want 19 (three extension characters count two)", n, ok)
	}
	if _, ok := Septets("ہاں"); ok {
		t.Fatal("Urdu counted as GSM-7")
	}
	if n := UCS2Units("ہاں🧵"); n != 5 {
		t.Fatalf("UCS-2 units %d, want 5 (an emoji is a surrogate pair)", n)
	}
	if !(Text{Body: strings.Repeat("a", 306)}).Fits() || (Text{Body: strings.Repeat("a", 305) + "€"}).Fits() {
		t.Fatal("the GSM-7 limit is not 306 septets")
	}
	if !(Text{Body: strings.Repeat("ک", 134), Unicode: true}).Fits() || (Text{Body: strings.Repeat("ک", 133) + "🧵", Unicode: true}).Fits() {
		t.Fatal("the UCS-2 limit is not 134 units")
	}
}
