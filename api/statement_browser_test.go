package api_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/ledger"
)

// TestBrowserIncomeStatementPage opens an artisan's printable statement in
// headless Chromium at a phone's width, checks that its style applies, the
// Urdu runs right to left and nothing scrolls sideways, and prints it to an
// A4 PDF of one page (kept in a temporary folder).
func TestBrowserIncomeStatementPage(t *testing.T) {
	requireBrowser(t)
	e := newEnv(t, modelstest.Open(t, "sqlite"))
	f := newCatalogFixture(e)
	sell(e, f.group.ID, 3, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 180},
		ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.private.ID), Minutes: 60})
	e.do("PATCH", "/api/v1/artisans/"+f.public.ID, map[string]any{"statement_consent": true}, bearer(f.manager.AccessToken)).wantStatus(t, 200)
	srv := httptest.NewServer(e.srv.Handler())
	defer srv.Close()
	since := url.QueryEscape(time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339))
	address := srv.URL + "/api/v1/artisans/" + f.public.ID + "/income-statement?format=html&from=" + since

	ctx := headless(t, 40*time.Second)

	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"Authorization": "Bearer " + f.manager.AccessToken}})
			return err
		}),
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(address),
		chromedp.WaitVisible(chromedp.CSS("table")),
	)
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[statementLayout](`({
		text: document.body.innerText,
		scrollWidth: document.documentElement.scrollWidth,
		innerWidth: window.innerWidth,
		urduDir: getComputedStyle(document.querySelector('h1 [lang="ur"]')).direction,
		background: getComputedStyle(document.body).backgroundColor,
		rows: document.querySelectorAll("tbody tr").length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	var pdf []byte
	err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		yes := true
		res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69,
			PrintBackground: &yes, PreferCSSPageSize: &yes})
		pdf = res.Data
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(got.Text, "\u00a0", " ")
	for _, want := range []string{"Income statement", "Shazia Secret-Surname", "Rs 6,750.00", "Rs 2,250.00", "9.00", "Pakistan time"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q is not visible", want)
		}
	}
	if got.Rows < 1 || got.Rows > 2 {
		t.Errorf("%d months shown", got.Rows)
	}
	if got.UrduDir != "rtl" {
		t.Errorf("the Urdu title runs %q", got.UrduDir)
	}
	if got.Background != "rgb(246, 243, 238)" {
		t.Errorf("the page's style did not apply (background %q): does the policy's hash match it?", got.Background)
	}
	if got.ScrollWidth > got.InnerWidth {
		t.Errorf("the page is %d px wide at %d px and scrolls sideways", got.ScrollWidth, got.InnerWidth)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatal("not a PDF")
	}
	if pages := bytes.Count(pdf, []byte("/Type /Page\n")) + bytes.Count(pdf, []byte("/Type /Page ")) + bytes.Count(pdf, []byte("/Type /Page>")); pages > 1 {
		t.Errorf("a month's statement prints on %d A4 pages", pages)
	}
	if err := os.WriteFile(t.TempDir()+"/statement.pdf", pdf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// statementLayout is what the browser test reads of the statement page.
type statementLayout struct {
	Text        string `json:"text"`
	ScrollWidth int64  `json:"scrollWidth"`
	InnerWidth  int64  `json:"innerWidth"`
	UrduDir     string `json:"urduDir"`
	Background  string `json:"background"`
	Rows        int    `json:"rows"`
}
