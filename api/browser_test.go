package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/karigar/karigar/models/modelstest"
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowserProductPage loads the public product page in headless Chromium at
// a phone's width and a laptop's, checks that the chart and its amounts are
// visible and that nothing overflows sideways, and keeps a screenshot of each
// in docs/screenshots for people to look at.
func TestBrowserProductPage(t *testing.T) {
	requireBrowser(t)
	e := newEnv(t, modelstest.Open(t, "sqlite"))
	_, p := newExampleProduct(e)
	srv := httptest.NewServer(e.srv.Handler())
	defer srv.Close()

	ctx := headless(t, 40*time.Second)

	for _, size := range []struct{ width, height int64 }{{360, 740}, {1280, 800}} {
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(size.width, size.height),
			chromedp.Navigate(srv.URL+"/p/"+p.ID),
			chromedp.WaitVisible(chromedp.CSS("svg.bar")),
		)
		if err != nil {
			t.Fatalf("%d px: %v", size.width, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[pageLayout](`({
			text: document.body.innerText,
			scrollWidth: document.documentElement.scrollWidth,
			innerWidth: window.innerWidth,
			bars: [...document.querySelectorAll("svg.bar rect")].map(r => r.getBoundingClientRect().width),
			urduDir: getComputedStyle(document.querySelector('[lang="ur"]')).direction,
			photoHeight: document.querySelector(".photo").getBoundingClientRect().height,
			background: getComputedStyle(document.body).backgroundColor,
		})`))
		if err != nil {
			t.Fatalf("%d px: %v", size.width, err)
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%d px: %v", size.width, err)
		}
		got.Text = strings.ReplaceAll(got.Text, "\u00a0", " ")
		for _, row := range exampleRows {
			// The amount and percent at the end of each row, e.g. "Rs 1,000.00 33.3%".
			fields := strings.Fields(row)
			amount, percent := strings.Join(fields[len(fields)-3:len(fields)-1], " "), fields[len(fields)-1]
			if !strings.Contains(got.Text, amount) || !strings.Contains(got.Text, percent) {
				t.Errorf("%d px: %q or %q is not visible", size.width, amount, percent)
			}
		}
		if !strings.Contains(got.Text, "Makers earn Rs 462.00/hour — 2.4× Punjab's minimum wage") {
			t.Errorf("%d px: the wage sentence is not visible", size.width)
		}
		if len(got.Bars) != len(exampleRows) {
			t.Errorf("%d px: %d parts in the chart, want %d", size.width, len(got.Bars), len(exampleRows))
		}
		for i, w := range got.Bars {
			if w <= 0 {
				t.Errorf("%d px: part %d of the chart has no width", size.width, i)
			}
		}
		if got.ScrollWidth > got.InnerWidth {
			t.Errorf("%d px: the page is %d px wide and scrolls sideways", size.width, got.ScrollWidth)
		}
		if got.Background != "rgb(246, 243, 238)" {
			t.Errorf("%d px: the page's style did not apply (background %q): does the policy's hash match it?", size.width, got.Background)
		}
		if got.UrduDir != "rtl" {
			t.Errorf("%d px: the Urdu title runs %q", size.width, got.UrduDir)
		}
		if got.PhotoHeight < 100 {
			t.Errorf("%d px: the photo's box collapsed to %.0f px when the photo could not load", size.width, got.PhotoHeight)
		}
		name := filepath.Join("..", "docs", "screenshots", fmt.Sprintf("product-page-%d.png", size.width))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pageLayout is what the browser test reads of the rendered page.
type pageLayout struct {
	Text        string    `json:"text"`
	ScrollWidth int64     `json:"scrollWidth"`
	InnerWidth  int64     `json:"innerWidth"`
	Bars        []float64 `json:"bars"`
	UrduDir     string    `json:"urduDir"`
	PhotoHeight float64   `json:"photoHeight"`
	Background  string    `json:"background"`
}

// requireBrowser skips a browser test where Chromium is not installed (in
// CI it fails instead, so a missing browser cannot pass unnoticed) or where
// KARIGAR_TEST_ENGINES leaves out SQLite, which the browser tests run on.
func requireBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs Chromium at %s for the browser tests (.ci/run installs it): %v", chromiumPath, err)
		}
		t.Skipf("Chromium is not installed at %s: apt-get install chromium to run the browser tests", chromiumPath)
	}
	if !slices.Contains(modelstest.Engines(), "sqlite") {
		t.Skip("the browser test runs on SQLite, which KARIGAR_TEST_ENGINES leaves out")
	}
}

// headless starts a headless Chromium of the test's own (a fresh profile,
// stopped when the test ends) and returns its context, which gives up after
// timeout. Pages on other hosts (a product's photo hosted elsewhere) resolve
// to nothing but the loopback address: the tests stay off the network and
// show a page as it looks when such a picture cannot load.
func headless(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	ctx, cancel := context.WithTimeout(browser, timeout)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx
}
