package api_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/karigar/karigar/docs"
	"github.com/karigar/karigar/models/modelstest"
)

// loadDoc parses and validates docs/openapi.yaml, once per test process:
// every test's spec checker reads the same document and none changes it.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := specDoc()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

var specDoc = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not valid: %w", err)
	}
	return doc, nil
})

type specOp struct {
	method, path string
	op           *openapi3.Operation
}

// specOps lists the spec's operations in a stable order.
func specOps(doc *openapi3.T) []specOp {
	var out []specOp
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, specOp{method, path, op})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].path+" "+out[i].method < out[j].path+" "+out[j].method
	})
	return out
}

func TestSpecAndRouterAgree(t *testing.T) {
	t.Parallel()
	e := newEnv(t, modelstest.Open(t, "sqlite"))
	router := map[string]bool{}
	for _, r := range e.srv.Routes() {
		method, _, _ := strings.Cut(r, " ")
		if method == http.MethodHead || method == http.MethodOptions {
			continue
		}
		router[r] = true
	}
	spec := map[string]bool{}
	for _, o := range specOps(loadDoc(t)) {
		if o.method == http.MethodHead || o.method == http.MethodOptions {
			continue
		}
		spec[o.method+" "+o.path] = true
	}
	for r := range router {
		if !spec[r] {
			t.Errorf("the router serves %s but openapi.yaml does not describe it", r)
		}
	}
	for r := range spec {
		if !router[r] {
			t.Errorf("openapi.yaml describes %s but the router does not serve it", r)
		}
	}
	if len(router) == 0 {
		t.Fatal("the router lists no routes")
	}
}

func TestSpecOperationsAreDocumented(t *testing.T) {
	doc := loadDoc(t)
	for _, o := range specOps(doc) {
		name := o.method + " " + o.path
		if strings.TrimSpace(o.op.Summary) == "" {
			t.Errorf("%s has no summary", name)
		}
		if strings.TrimSpace(o.op.OperationID) == "" {
			t.Errorf("%s has no operationId", name)
		}
		if strings.TrimSpace(o.op.Description) == "" {
			t.Errorf("%s has no description", name)
		}
		if o.op.Responses.Status(http.StatusInternalServerError) == nil {
			t.Errorf("%s does not document its 500 response", name)
		}
		for code, ref := range o.op.Responses.Map() {
			r := ref.Value
			if r.Description == nil || strings.TrimSpace(*r.Description) == "" {
				t.Errorf("%s → %s has no description", name, code)
			}
			if r.Headers["X-Request-ID"] == nil {
				t.Errorf("%s → %s does not declare the X-Request-ID header", name, code)
			}
			for ct, mt := range r.Content {
				if !strings.HasPrefix(ct, "application/json") {
					continue
				}
				if mt.Schema == nil || mt.Schema.Value == nil {
					t.Errorf("%s → %s %s has no schema", name, code, ct)
					continue
				}
				if status, _ := strconv.Atoi(code); status >= 400 && mt.Schema.Ref != "#/components/schemas/ErrorEnvelope" {
					t.Errorf("%s → %s is an error but its schema is not the ErrorEnvelope", name, code)
				}
			}
		}
	}
}

// Every POST accepts an Idempotency-Key and can fail the ways every POST
// can. The sign-in routes never store their answers, so they have no
// idempotency 409 of their own; nor does issuing a password reset, whose
// answer is a credential.
func TestSpecPOSTsShareTheirConventions(t *testing.T) {
	keyRequired := map[string]bool{"POST /api/v1/groups/{id}/payouts": true, "POST /api/v1/orders": true}
	neverStored := map[string]bool{"POST /api/v1/admin/users/{id}/password-reset": true}
	doc := loadDoc(t)
	for _, o := range specOps(doc) {
		if o.method != http.MethodPost {
			continue
		}
		name := o.method + " " + o.path
		// Routes that move money require the key; every other POST accepts one.
		wantRequired := keyRequired[name]
		if p := o.op.Parameters.GetByInAndName("header", "Idempotency-Key"); p == nil || p.Required != wantRequired {
			t.Errorf("%s does not take an Idempotency-Key header (required: %v)", name, wantRequired)
		}
		for _, status := range []int{400, 409, 413, 500} {
			if status == http.StatusConflict && (strings.HasPrefix(o.path, "/api/v1/auth/") || neverStored[name]) {
				continue
			}
			if o.op.Responses.Status(status) == nil {
				t.Errorf("%s does not document %d", name, status)
			}
		}
		if o.op.Security != nil && len(*o.op.Security) > 0 && o.op.Responses.Status(401) == nil {
			t.Errorf("%s takes a token but does not document 401", name)
		}
	}
}

// The ErrorCode enum is exactly the codes services can return plus the
// router's method_not_allowed.
func TestSpecErrorCodesMatchServices(t *testing.T) {
	want := []string{"method_not_allowed"}
	f, err := parser.ParseFile(token.NewFileSet(), "../services/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			want = append(want, s)
		}
		return true
	})
	if len(want) < 10 {
		t.Fatalf("found only %v in services/errors.go", want)
	}
	ref := loadDoc(t).Components.Schemas["ErrorCode"]
	if ref == nil {
		t.Fatal("openapi.yaml has no ErrorCode schema")
	}
	var got []string
	for _, v := range ref.Value.Enum {
		got = append(got, v.(string))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("ErrorCode enum %v, want %v", got, want)
	}
}
