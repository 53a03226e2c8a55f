package api_test

import (
	"bytes"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

func withPublicURL(u string) envOption {
	return func(c envConfig) { c.api.PublicURL = u }
}

// page GETs a public HTML page. Unlike e.do it accepts an HTML error page:
// people, not programs, read these answers.
func (e *env) page(path string) *response {
	e.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	res := &response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	e.spec.check(e.t, "GET", path, req.Header, res)
	return res
}

const exampleTitle = "Multani blue pottery vase — ملتانی گلدان"

// newExampleProduct publishes the contract's worked example: Rs 3,000.00 of which
// labour Rs 1,000.00 (4 h at Rs 250.00/h), materials Rs 500, packaging Rs 50, in a
// Punjab group whose collective fund takes 20%.
func newExampleProduct(e *env) (catalogFixture, productBody) {
	e.t.Helper()
	f := newCatalogFixture(e)
	e.do("PATCH", "/api/v1/groups/"+f.group.ID, map[string]any{"profit_sharing": map[string]any{"method": "labor_hours",
		"collective_fund_bps": 2000}}, bearer(f.manager.AccessToken)).wantStatus(e.t, http.StatusOK)
	return f, e.newProduct(f, f.product(exampleTitle, "pottery", 300000), true)
}

// exampleRows are the lines of the example's split as the page's table shows
// them: label, amount, percent of the price.
var exampleRows = []string{
	"Paid to the artisans for 4 h 0 min of work Rs 1,000.00 33.3%",
	"Shared among the makers by Multan Blue Pottery Women Rs 848.00 28.3%",
	"The group's collective fund (20% of what is left after costs and fees) Rs 212.00 7.1%",
	"Materials: clay, cobalt glaze Rs 500.00 16.7%",
	"Packaging Rs 50.00 1.7%",
	"Karigar's platform fee (10%) Rs 300.00 10.0%",
	"Card payment processing (an estimate: 3%) Rs 90.00 3.0%",
}

var (
	rowPattern = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	tagPattern = regexp.MustCompile(`<[^>]*>`)
)

// pageText is the page's HTML unescaped, with no-break spaces as plain ones.
func pageText(body []byte) string {
	return strings.ReplaceAll(html.UnescapeString(string(body)), "\u00a0", " ")
}

// tableRows returns the text of each table row, tags removed and spaces collapsed.
func tableRows(body []byte) []string {
	var out []string
	for _, m := range rowPattern.FindAllSubmatch(body, -1) {
		text := html.UnescapeString(tagPattern.ReplaceAllString(string(m[1]), " "))
		out = append(out, strings.Join(strings.Fields(text), " "))
	}
	return out
}

func TestProductPage(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f, p := newExampleProduct(e)

		res := e.page("/p/" + p.ID)
		res.wantStatus(t, http.StatusOK)
		body := string(res.Body)
		text := pageText(res.Body)
		t.Run("headers", func(t *testing.T) {
			if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "img-src 'self' https: data:", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") || strings.Contains(body, "<script") {
				t.Errorf("the page must run no scripts: policy %q", csp)
			}
		})
		t.Run("split in rupees and percent", func(t *testing.T) {
			rows := tableRows(res.Body)
			for _, want := range exampleRows {
				if !slices.Contains(rows, want) {
					t.Errorf("no row %q in %q", want, rows)
				}
			}
			if !slices.Contains(rows, "Price Rs 3,000.00 100%") {
				t.Errorf("no total row in %q", rows)
			}
			if n := strings.Count(body, "<rect "); n != len(exampleRows) {
				t.Errorf("%d bars in the chart, want one per line (%d)", n, len(exampleRows))
			}
			if !strings.Contains(text, "Rs 1,848.00 (61.6%)</strong> goes to the makers") {
				t.Errorf("the makers' share is missing")
			}
		})
		t.Run("wage in words", func(t *testing.T) {
			want := "Makers earn Rs 462.00/hour — 2.4× Punjab's minimum wage (Rs 192.30/hour)."
			if !strings.Contains(text, want) {
				t.Errorf("no %q in the page", want)
			}
			if !strings.Contains(body, `class="wage ok"`) {
				t.Error("a wage above the benchmark should be shown as met")
			}
		})
		t.Run("titles, group and makers", func(t *testing.T) {
			for _, want := range []string{
				"<h1>Multani blue pottery vase</h1>",
				`<p class="ur" lang="ur" dir="rtl">ملتانی گلدان</p>`,
				"Made by Multan Blue Pottery Women · Multan, Punjab",
				`<span class="name">Shazia</span>, Multan`,
				`<img src="https://img.example.pk/a.jpg"`,
				"Rs 3,000.00",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("no %q in the page", want)
				}
			}
		})
		t.Run("no private data", func(t *testing.T) {
			for _, secret := range []string{"Secret-Surname", f.private.ID, "Rukhsana", "03009998887"} {
				if strings.Contains(text, secret) {
					t.Errorf("the public page shows %q", secret)
				}
			}
		})
		t.Run("below the benchmark", func(t *testing.T) {
			// Rs 100.00/h for 4 h and a thin margin: Rs 118.80 an hour in all.
			body := f.product("Khes shawl", "textiles", 120000)
			body["cost"].(map[string]any)["hourly_wage"] = pkr(10000)
			low := e.newProduct(f, body, true)
			res := e.page("/p/" + low.ID)
			res.wantStatus(t, http.StatusOK)
			want := "Makers earn Rs 118.80/hour — below Punjab's minimum wage of Rs 192.30/hour (61% of it)."
			if text := pageText(res.Body); !strings.Contains(text, want) || !strings.Contains(text, `class="wage below"`) {
				t.Errorf("no %q shown as unmet in the page", want)
			}
		})
		t.Run("title without Urdu", func(t *testing.T) {
			plain := e.newProduct(f, f.product("Blue — white vase", "pottery", 300000), true)
			body := string(e.page("/p/" + plain.ID).Body)
			if !strings.Contains(body, "<h1>Blue — white vase</h1>") || strings.Contains(body, `lang="ur"`) {
				t.Errorf("a dash without Urdu after it is part of the title")
			}
		})
		t.Run("escaping", func(t *testing.T) {
			evil := e.newProduct(f, f.product(`<script>alert(1)</script> vase`, "pottery", 300000), true)
			body := string(e.page("/p/" + evil.ID).Body)
			if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt; vase") {
				t.Errorf("the title is not escaped")
			}
		})
		t.Run("not found404", func(t *testing.T) {
			draft := e.newProduct(f, f.product("Draft vase", "pottery", 300000), false)
			archived := e.newProduct(f, f.product("Old vase", "pottery", 300000), true)
			e.do("POST", "/api/v1/products/"+archived.ID+"/archive", nil, bearer(f.manager.AccessToken)).wantStatus(t, http.StatusOK)
			for name, id := range map[string]string{"draft": draft.ID, "archived": archived.ID, "unknown": uuid.NewString(),
				"not a uuid": "not-a-uuid", "injection": "1%27%20OR%201=1"} {
				res := e.page("/p/" + id)
				if res.Code != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
					!strings.Contains(string(res.Body), "find this product") {
					t.Errorf("%s: %d %q, want the HTML 404 page", name, res.Code, res.Header.Get("Content-Type"))
				}
				e.do("GET", "/p/"+id+"/qr.png", nil).wantError(t, http.StatusNotFound, "not_found")
			}
		})
	}, withPublicURL("https://karigar.example/"))
}

func TestProductPageQR(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		_, p := newExampleProduct(e)
		res := e.do("GET", "/p/"+p.ID+"/qr.png", nil)
		res.wantStatus(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "image/png" {
			t.Fatalf("Content-Type %q", ct)
		}
		if got, want := decodeQR(t, res.Body), "https://karigar.example/p/"+p.ID; got != want {
			t.Fatalf("the QR code holds %q, want %q", got, want)
		}
		// The code always holds the canonical address, however the id was spelled.
		res = e.do("GET", "/p/"+strings.ToUpper(p.ID)+"/qr.png", nil)
		res.wantStatus(t, http.StatusOK)
		if got, want := decodeQR(t, res.Body), "https://karigar.example/p/"+p.ID; got != want {
			t.Fatalf("the QR code holds %q, want %q", got, want)
		}
	}, withPublicURL("https://karigar.example/"))
}

func decodeQR(t *testing.T, data []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() < 200 {
		t.Errorf("QR image %v: want a square big enough to print", b)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// The image is a generated code on a quiet zone, not a photo: reading it as a pure
	// barcode takes its modules where they are, where the finder-pattern search that
	// photos need misjudges some codes' size.
	hints := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true}
	result, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("the PNG does not decode as a QR code: %v", err)
	}
	return result.GetText()
}
