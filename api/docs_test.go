package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/karigar/karigar/docs"
	"github.com/karigar/karigar/models/modelstest"
)

var (
	externalRef = regexp.MustCompile(`(?i)(?:src|href|action|srcset)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)`)
	cssExternal = regexp.MustCompile(`(?i)@import|url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)`)
	hrefFrag    = regexp.MustCompile(`href="#([^"]+)"`)
	idAttr      = regexp.MustCompile(`id="([^"]+)"`)
	styleElem   = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

func TestDocsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, modelstest.Open(t, "sqlite"))
	res := e.do("GET", "/docs", nil)
	res.wantStatus(t, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q", ct)
	}
	page := string(res.Body)

	for _, o := range specOps(loadDoc(t)) {
		for _, want := range []string{o.path, o.op.Summary} {
			if !strings.Contains(page, html.EscapeString(want)) {
				t.Errorf("the page does not show %q (%s %s)", want, o.method, o.path)
			}
		}
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page has a <script>")
	}
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("the page refers to an external resource: %q", m)
	}
	if m := cssExternal.FindString(page); m != "" {
		t.Errorf("the page's style loads from elsewhere: %q", m)
	}
	ids := map[string]bool{}
	for _, m := range idAttr.FindAllStringSubmatch(page, -1) {
		if ids[m[1]] {
			t.Errorf("id %q is used twice", m[1])
		}
		ids[m[1]] = true
	}
	for _, m := range hrefFrag.FindAllStringSubmatch(page, -1) {
		if !ids[m[1]] {
			t.Errorf("link to #%s goes nowhere", m[1])
		}
	}

	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "*") {
		t.Errorf("CSP %q allows scripts or any source", csp)
	}
	// The policy must let the page's own style apply.
	style := styleElem.FindStringSubmatch(page)
	if style == nil {
		t.Fatal("the page has no <style>")
	}
	sum := sha256.Sum256([]byte(style[1]))
	if hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, hash) &&
		!strings.Contains(csp, "style-src 'unsafe-inline'") {
		t.Errorf("CSP %q does not allow the page's style (%s)", csp, hash)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("the page lost the API's other security headers")
	}

	// The page is rendered once: every request gets the same bytes.
	if again := e.do("GET", "/docs", nil); !bytes.Equal(again.Body, res.Body) {
		t.Error("the page differs between two requests")
	}
}

func TestOpenAPIDocumentIsServedAsIs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, modelstest.Open(t, "sqlite"))
	res := e.do("GET", "/openapi.yaml", nil)
	res.wantStatus(t, http.StatusOK)
	if !bytes.Equal(res.Body, docs.OpenAPI) {
		t.Fatal("GET /openapi.yaml differs from docs/openapi.yaml")
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Fatalf("Content-Type %q", ct)
	}
}
