package reference_test

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/karigar/karigar/api/reference"
)

const spec = `openapi: 3.0.3
info:
  title: Shop
  version: "1"
  description: |
    ## Money
    Amounts are in <b>paisa</b>, as ` + "`int64`" + `.
paths:
  /zebras:
    get:
      summary: List zebras
      responses:
        "200":
          description: the zebras
  /apples:
    get:
      summary: List apples
      responses:
        "200":
          description: the apples
`

func TestRenderKeepsSourceOrderAndEscapesText(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	out, err := reference.Render(doc, []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	page := string(out)
	if z, a := strings.Index(page, "/zebras"), strings.Index(page, "/apples"); z < 0 || a < 0 || z > a {
		t.Errorf("paths not in source order: /zebras at %d, /apples at %d", z, a)
	}
	if strings.Contains(page, "<b>paisa</b>") || !strings.Contains(page, "&lt;b&gt;paisa&lt;/b&gt;") {
		t.Error("a description's markup reached the page as markup")
	}
	if !strings.Contains(page, "<code>int64</code>") {
		t.Error("a code span was not rendered as code")
	}
	if n := strings.Count(page, "<style>"); n != 1 {
		t.Errorf("%d <style> elements, want the one a policy can allow by hash", n)
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page has a <script>")
	}
}
