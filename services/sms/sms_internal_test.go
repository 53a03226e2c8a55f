package sms

import (
	"strings"
	"testing"
	"time"
)

func TestGSM7AndSegments(t *testing.T) {
	for _, c := range []struct {
		text     string
		unicode  bool
		gsm      bool
		segments int
	}{
		{"Rs 2,450.00 mil gaye. Code K7M2Q9XH3A. Sahi ho to HAAN K7M2Q9XH3A likhein", false, true, 1},
		{strings.Repeat("a", 160), false, true, 1},
		{strings.Repeat("a", 161), false, true, 2},
		{strings.Repeat("a", 306), false, true, 2},
		{strings.Repeat("a", 307), false, true, 3},
		{strings.Repeat("€", 80), false, true, 1},  // extension characters take two septets: 160
		{strings.Repeat("€", 81), false, true, 2},  // 162
		{strings.Repeat("ں", 70), true, false, 1},  // UCS-2: 70 a part
		{strings.Repeat("ں", 71), true, false, 2},  // then 67 a part
		{strings.Repeat("ں", 134), true, false, 2}, // the contract's Urdu limit: 2 parts
		{strings.Repeat("ں", 135), true, false, 3},
		{"Rs 2,450.00 ✓", false, false, 1}, // outside GSM: sent as UCS-2 whatever the flag
		{"abc", true, true, 1},
	} {
		if got := GSM7(c.text); got != c.gsm {
			t.Errorf("GSM7(%.20q) = %v", c.text, got)
		}
		if got := Segments(c.text, c.unicode); got != c.segments {
			t.Errorf("Segments(%.20q..., %v) = %d, want %d", c.text, c.unicode, got, c.segments)
		}
	}
}

// The delay before the next attempt doubles from Backoff up to MaxBackoff,
// and a random half of it is taken off.
func TestBackoff(t *testing.T) {
	s := &Sender{g: Gateway{Backoff: 5 * time.Second, MaxBackoff: time.Hour}}
	for n, full := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second,
		10: 2560 * time.Second, 11: time.Hour, 100: time.Hour} {
		for range 50 {
			if d := s.backoff(n); d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %s, want %s to %s", n, d, full/2, full)
			}
		}
	}
}

func TestDefaultsGiveALeaseLongerThanABatch(t *testing.T) {
	g := Gateway{Timeout: time.Minute, Batch: 32, Concurrency: 4}
	g.defaults()
	if g.Lease < 9*time.Minute || g.MaxAttempts != 20 || g.Poll != time.Second {
		t.Errorf("defaults: %+v", g)
	}
}

func TestBriefAndRedact(t *testing.T) {
	if got := brief("  Authorization failed\n for sendsms  "); got != "Authorization failed for sendsms" {
		t.Errorf("brief: %q", got)
	}
	if got := brief(strings.Repeat("ں", 300)); len(got) > 204 || !strings.HasSuffix(got, "…") {
		t.Errorf("brief of a long answer: %d bytes", len(got))
	}
	if got := redact("http://user:pw@127.0.0.1:13013/cgi-bin/sendsms?password=x"); got != "http://127.0.0.1:13013/cgi-bin/sendsms" {
		t.Errorf("redact: %q", got)
	}
}
