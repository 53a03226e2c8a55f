package sms

import "strings"

// The GSM 03.38 default alphabet and its extension table (each extension
// character takes two septets), as Unicode.
const (
	gsmBasic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "^{}\\[~]|€\f"
)

// GSM7 reports whether text can go in the GSM 7-bit alphabet. Anything
// else (Urdu above all) must go as UCS-2, or the phone shows question marks.
func GSM7(text string) bool {
	for _, r := range text {
		if !strings.ContainsRune(gsmBasic, r) && !strings.ContainsRune(gsmExtension, r) {
			return false
		}
	}
	return true
}

// Septets is the length of text in the GSM 7-bit alphabet (an extension
// character counts twice), for texts where GSM7 is true.
func Septets(text string) int {
	n := 0
	for _, r := range text {
		n++
		if strings.ContainsRune(gsmExtension, r) {
			n++
		}
	}
	return n
}

// Segments is how many SMS parts text takes: in the GSM 7-bit alphabet
// 160 septets fit one part and 153 each part of a longer one; as UCS-2
// (unicode, or text outside GSM 7-bit) 70 UTF-16 units and 67 a part.
func Segments(text string, unicode bool) int {
	single, part, n := 160, 153, 0
	if unicode || !GSM7(text) {
		single, part = 70, 67
		for _, r := range text {
			n++
			if r > 0xFFFF {
				n++ // a surrogate pair
			}
		}
	} else {
		n = Septets(text)
	}
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}
