package receipts

import (
	"strings"

	"github.com/karigar/karigar/models"
)

// The languages an artisan may choose for her SMS (models.Artisan.Language).
const (
	Urdu      = "ur"       // Urdu script, sent as UCS-2
	RomanUrdu = "roman_ur" // Urdu in Latin letters, sent as GSM-7
	English   = "en"       // sent as GSM-7
)

// Languages lists them.
var Languages = []string{Urdu, RomanUrdu, English}

// language is lang if it is one of Languages, else Urdu, the default.
func language(lang string) string {
	switch lang {
	case Urdu, RomanUrdu, English:
		return lang
	}
	return Urdu
}

// The templates are written for women who read a little: short sentences,
// everyday words (ملے, بھیجے, لکھیں rather than formal or English ones), the
// amount as people see it written elsewhere (Rs 2,450.00), and the exact
// words to send back. {group} is filled last, shortened to whatever room the
// rest leaves, so that no message needs a third segment.

// receiptTemplates is the receipt SMS by language; {method} is the phrase
// of methodPhrases.
var receiptTemplates = map[string]string{
	Urdu:      "کاریگر: {group} نے آپ کو {amount} {method}۔ ملے تو لکھیں ہاں {code}، نہ ملے تو نہیں {code}",
	RomanUrdu: "Karigar: {group} ne aap ko {amount} {method}. Mil gaye hon to jawab mein likhein: HAAN {code}. Na mile hon to: NAHI {code}. Shukriya",
	English:   "Karigar: {group} paid you {amount} {method}. If you received it, reply HAAN {code}. If not, reply NAHI {code}. Thank you",
}

// methodPhrases say how the money came, to follow the amount.
var methodPhrases = map[string]map[string]string{
	Urdu:      {"bank": "بینک سے بھیجے", "jazzcash": "جاز کیش سے بھیجے", "easypaisa": "ایزی پیسہ سے بھیجے", "cash": "نقد دیے"},
	RomanUrdu: {"bank": "bank se bheje", "jazzcash": "JazzCash se bheje", "easypaisa": "Easypaisa se bheje", "cash": "naqd diye"},
	English:   {"bank": "by bank transfer", "jazzcash": "by JazzCash", "easypaisa": "by Easypaisa", "cash": "in cash"},
}

// yourGroup stands for a group whose name GSM-7 cannot write at all (one
// named only in Urdu script, in a Roman Urdu or English message).
var yourGroup = map[string]string{RomanUrdu: "aap ke group", English: "your group"}

// ReceiptText is the receipt SMS for a payout in lang: the group, the
// amount, the method, the code and how to answer. Urdu is sent in UCS-2,
// Roman Urdu and English in GSM-7, always within two segments: the group's
// name is shortened (deterministically) to the room the rest leaves.
func ReceiptText(lang, group string, amount models.Money, method, code string) Text {
	lang = language(lang)
	phrase := methodPhrases[lang][method]
	if phrase == "" {
		phrase = methodPhrases[lang]["bank"]
	}
	body := strings.NewReplacer("{amount}", amount.String(), "{method}", phrase, "{code}", code).
		Replace(receiptTemplates[lang])
	return fillGroup(lang, body, group)
}

// fillGroup puts the group's name into body at {group}, in the language's
// encoding and shortened to fit two segments.
func fillGroup(lang, body, group string) Text {
	group = cleanName(group)
	rest := strings.Replace(body, "{group}", "", 1)
	if lang == Urdu {
		name := shorten(group, MaxUCS2Units-UCS2Units(rest), UCS2Units, "…")
		return Text{Body: strings.Replace(body, "{group}", name, 1), Unicode: true}
	}
	name, ok := toGSM7(group)
	if !ok {
		name = yourGroup[lang]
	}
	name = shorten(name, MaxGSM7Septets-septetsOf(rest), septetsOf, "...")
	return Text{Body: strings.Replace(body, "{group}", name, 1)}
}

// replyKind is what a reply to an inbound message says.
type replyKind int

const (
	replyConfirmed   replyKind = iota // her HAAN was recorded
	replyDisputed                     // her NAHI was recorded
	replyAlreadyYes                   // answered before, with HAAN
	replyAlreadyNo                    // answered before, with NAHI
	replyOtherNumber                  // the receipt is for another number
	replyUnknownCode                  // no receipt has this code
	replyHelp                         // the text could not be read as an answer
	replyKinds                        // how many kinds there are
)

// replyTemplates are the replies by kind and language. {code} is the
// receipt's code (or the code as she wrote it, read forgivingly), {amount}
// the payout's amount.
var replyTemplates = [replyKinds]map[string]string{
	replyConfirmed: {
		Urdu:      "شکریہ! آپ نے بتا دیا کہ {amount} مل گئے۔ رسید {code}",
		RomanUrdu: "Shukriya! Aap ne bata diya ke {amount} mil gaye. Raseed {code}",
		English:   "Thank you! You confirmed that you received {amount}. Receipt {code}",
	},
	replyDisputed: {
		Urdu:      "ہم نے لکھ لیا کہ آپ کو {amount} نہیں ملے۔ اس کی جانچ ہو گی۔ رسید {code}",
		RomanUrdu: "Hum ne likh liya ke aap ko {amount} nahi mile. Is ki jaanch hogi. Raseed {code}",
		English:   "We have recorded that you did not receive {amount}. It will be looked into. Receipt {code}",
	},
	replyAlreadyYes: {
		Urdu:      "رسید {code} کا جواب پہلے آ چکا ہے: ہاں۔ کچھ نہیں بدلا۔ شکریہ",
		RomanUrdu: "Raseed {code} ka jawab pehle aa chuka hai: HAAN. Kuch nahi badla. Shukriya",
		English:   "Receipt {code} was already answered: HAAN. Nothing was changed. Thank you",
	},
	replyAlreadyNo: {
		Urdu:      "رسید {code} کا جواب پہلے آ چکا ہے: نہیں۔ کچھ نہیں بدلا۔ شکریہ",
		RomanUrdu: "Raseed {code} ka jawab pehle aa chuka hai: NAHI. Kuch nahi badla. Shukriya",
		English:   "Receipt {code} was already answered: NAHI. Nothing was changed. Thank you",
	},
	replyOtherNumber: {
		Urdu:      "معاف کیجیے، رسید {code} کسی اور نمبر کی ہے۔ کچھ نہیں بدلا۔",
		RomanUrdu: "Maaf kijiye, raseed {code} kisi aur number ke liye hai. Kuch nahi badla.",
		English:   "Sorry, receipt {code} is for another number. Nothing was changed.",
	},
	replyUnknownCode: {
		Urdu:      "رسید {code} نہیں ملی۔ رقم ملی ہو تو ہاں اور رسید کا کوڈ لکھیں، نہ ملی ہو تو نہیں اور کوڈ۔",
		RomanUrdu: "Raseed {code} nahi mili. Paise mil gaye hon to HAAN aur raseed ka code likhein, na mile hon to NAHI aur code.",
		English:   "We could not find receipt {code}. Reply HAAN and the receipt's code if you received the money, NAHI and the code if not.",
	},
	replyHelp: {
		Urdu:      "کاریگر: رقم ملی ہو تو ہاں اور رسید کا کوڈ لکھیں، نہ ملی ہو تو نہیں اور کوڈ۔",
		RomanUrdu: "Karigar: paise mil gaye hon to HAAN aur raseed ka code likhein, na mile hon to NAHI aur code.",
		English:   "Karigar: reply HAAN and the receipt's code if you received the money, NAHI and the code if not.",
	},
}

// replyText is a reply in lang; bilingual (for a sender who is no known
// artisan) gives Urdu and English together in UCS-2 when they fit two
// segments, else Roman Urdu, which both Urdu readers and others can follow.
func replyText(kind replyKind, lang string, bilingual bool, code string, amount models.Money) Text {
	fill := func(lang string) string {
		return strings.NewReplacer("{code}", code, "{amount}", amount.String()).Replace(replyTemplates[kind][lang])
	}
	if bilingual {
		both := Text{Body: fill(Urdu) + "\n" + fill(English), Unicode: true}
		if both.Fits() {
			return both
		}
		lang = RomanUrdu
	}
	lang = language(lang)
	return Text{Body: fill(lang), Unicode: lang == Urdu}
}
