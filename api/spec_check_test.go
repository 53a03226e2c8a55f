package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specChecker validates real responses against docs/openapi.yaml: the route
// and the status must be documented and the body must match its schema.
type specChecker struct {
	router routers.Router
}

func newSpecChecker(t *testing.T) *specChecker {
	t.Helper()
	r, err := specRouter()
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &specChecker{router: r}
}

// specRouter is built once per test process, like the document it routes
// by: finding a route changes nothing in it.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := specDoc()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

func (s *specChecker) check(t *testing.T, method, path string, h http.Header, res *response) {
	t.Helper()
	if method == http.MethodOptions || method == http.MethodHead {
		return // CORS preflights and HEAD probes are protocol-level, not part of the API description
	}
	req := httptest.NewRequest(method, path, nil)
	req.Header = h.Clone()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if res.Code == http.StatusNotFound || res.Code == http.StatusMethodNotAllowed {
			return // an unknown route, answered as such
		}
		t.Errorf("%s %s answered %d but is not in openapi.yaml: %v", method, path, res.Code, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  res.Code,
		Header:  res.Header,
		Body:    io.NopCloser(bytes.NewReader(res.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match openapi.yaml: %v\nbody: %s", method, path, res.Code, err, res.Body)
	}
}
