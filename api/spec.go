package api

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/api/reference"
	"github.com/karigar/karigar/docs"
)

// apiSpec is what serving needs of the spec: the rendered page. The parsed
// document is not kept, so it does not stay in the heap.
type apiSpec struct {
	page renderedDocs
}

// renderedDocs is the /docs page and the policy that lets it show.
type renderedDocs struct {
	html []byte
	csp  string
}

// loadSpec parses and validates the embedded spec once, at start, and
// renders the /docs page from it, so a broken spec stops the server instead
// of serving a broken page. It runs once per process: what it builds is
// never changed, and a process that starts many servers (the tests start
// hundreds, each of which took seconds under the race detector) shares it.
var loadSpec = sync.OnceValues(buildSpec)

func buildSpec() (*apiSpec, error) {
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	html, err := reference.Render(doc, docs.OpenAPI)
	if err != nil {
		return nil, err
	}
	csp, err := pageCSP(html, "'self' data:")
	if err != nil {
		return nil, err
	}
	return &apiSpec{page: renderedDocs{html: html, csp: csp}}, nil
}

func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", docs.OpenAPI)
}

// docsPage serves the API reference rendered at start. It replaces the
// API's default Content-Security-Policy (which allows nothing) with one that
// allows the page's own inline style and nothing else: no scripts, no
// frames, nothing loaded from elsewhere.
func (s *Server) docsPage(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", s.spec.page.csp)
	h.Set("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "text/html; charset=utf-8", s.spec.page.html)
}

// openAPIPath turns gin's "/products/:id" into OpenAPI's "/products/{id}".
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") || strings.HasPrefix(part, "*") {
			parts[i] = "{" + part[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}
