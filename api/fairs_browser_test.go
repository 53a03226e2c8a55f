package api_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/karigar/karigar/models/modelstest"
)

var (
	pdfMediaBox = regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]`)
	pdfPage     = regexp.MustCompile(`/Type\s*/Page\b`)
)

// TestBrowserFairLabels prints an event's label sheet to PDF in headless
// Chromium and checks that it is A4, that it takes the pages its tags need,
// and that every tag's QR code, as the browser draws it for print, decodes
// to its own product's public page.
func TestBrowserFairLabels(t *testing.T) {
	requireBrowser(t)
	const public = "https://karigar.example.pk"
	e := newEnv(t, modelstest.Open(t, "sqlite"), withPublicURL(public))
	f := newFair(e, 10)
	// Thirteen products at the stall: more than one A4 page of tags.
	want := map[string]bool{f.vase.ID: true}
	e.moveStock(f.manager, f.event.ID, f.vase.ID, 2, false).wantStatus(t, 200)
	for i := range 12 {
		p := e.newProduct(f.catalogFixture, f.product(fmt.Sprintf("Hand-painted tile no. %d — ٹائل", i+1), "pottery", 300000+int64(i)*12345), true)
		e.moveStock(f.manager, f.event.ID, p.ID, 1, false).wantStatus(t, 200)
		want[p.ID] = true
	}
	srv := httptest.NewServer(e.srv.Handler())
	defer srv.Close()

	ctx := headless(t, 60*time.Second)

	// As printed: print media, an A4 page's width at 96 px to the inch.
	printMedia := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(794, 1123),
		printMedia,
		chromedp.Navigate(srv.URL+"/api/v1/events/"+f.event.ID+"/labels"),
		chromedp.WaitVisible(chromedp.CSS("article.tag img.qr")),
	); err != nil {
		t.Fatal(err)
	}

	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 16)])
	}
	boxes := pdfMediaBox.FindAllSubmatch(pdf, -1)
	if len(boxes) == 0 {
		t.Fatal("the PDF names no page size")
	}
	for _, b := range boxes {
		// A4 is 210 × 297 mm: 595.3 × 841.9 points, give or take the browser's rounding to pixels.
		w, _ := strconv.ParseFloat(string(b[1]), 64)
		h, _ := strconv.ParseFloat(string(b[2]), 64)
		if w < 593 || w > 598 || h < 840 || h > 845 {
			t.Errorf("a page of %.1f × %.1f points, not A4", w, h)
		}
	}
	if pages := len(pdfPage.FindAll(pdf, -1)); pages != 2 {
		t.Errorf("%d pages for 13 tags, want 2 (12 tags a page)", pages)
	}

	type tagInfo struct {
		ID        string  `json:"id"`
		Text      string  `json:"text"`
		Overflow  bool    `json:"overflow"`
		QRWidth   float64 `json:"qrWidth"`   // as laid out, in CSS pixels
		QRNatural float64 `json:"qrNatural"` // of the PNG
	}
	tags, err := chromedp.Run(ctx, chromedp.Evaluate[[]tagInfo](`[...document.querySelectorAll("article.tag")].map(a => ({
		id: a.dataset.product, text: a.innerText, overflow: a.scrollHeight > a.clientHeight + 1,
		qrWidth: a.querySelector("img.qr").getBoundingClientRect().width,
		qrNatural: a.querySelector("img.qr").naturalWidth,
	}))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != len(want) {
		t.Fatalf("%d tags on the sheet, want %d", len(tags), len(want))
	}
	for _, tag := range tags {
		if !want[tag.ID] {
			t.Errorf("a tag for %s, which is not at the stall", tag.ID)
		}
		text := strings.ReplaceAll(tag.Text, "\u00a0", " ")
		if !strings.Contains(text, "Rs ") || !strings.Contains(text, "to the makers") || !strings.Contains(text, public+"/p/"+tag.ID) {
			t.Errorf("tag %s reads %q", tag.ID, text)
		}
		if tag.Overflow {
			t.Errorf("tag %s overflows its box", tag.ID)
		}
		// 25 mm on paper; on screen about 94 CSS pixels. Zoomed so that each of the PNG's
		// pixels is drawn as 2 × 2 device pixels, the browser's drawing is exact and reads
		// as a pure barcode, however many modules the code has.
		if tag.QRWidth < 90 || tag.QRNatural == 0 {
			t.Fatalf("tag %s: its QR code is %.1f CSS pixels wide (%v natural)", tag.ID, tag.QRWidth, tag.QRNatural)
		}
		shot, err := chromedp.Run(ctx, chromedp.ScreenshotScale(chromedp.CSS(`article.tag[data-product="`+tag.ID+`"] img.qr`),
			2*tag.QRNatural/tag.QRWidth))
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeScreenshotQR(t, shot); got != public+"/p/"+tag.ID {
			t.Errorf("tag %s: its QR code reads %q", tag.ID, got)
		}
	}

	sheet, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join("..", "docs", "screenshots", "fair-labels.png")
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, sheet, 0o644); err != nil {
		t.Fatal(err)
	}
}

// decodeScreenshotQR reads the QR code in a screenshot of it as the browser
// drew it.
func decodeScreenshotQR(t *testing.T, data []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, hints := range []map[gozxing.DecodeHintType]any{
		{gozxing.DecodeHintType_PURE_BARCODE: true},
		{gozxing.DecodeHintType_TRY_HARDER: true},
	} {
		res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
		if err == nil {
			return res.GetText()
		}
		last = err
	}
	t.Fatalf("the screenshot does not decode as a QR code: %v", last)
	return ""
}
