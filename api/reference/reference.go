// Package reference renders an OpenAPI document as the readable API
// reference served at /docs: one static HTML page with no scripts and
// nothing loaded from elsewhere, so it works offline and under a
// Content-Security-Policy that allows only its own inline style.
package reference

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

//go:embed page.html
var pageText string

var pageTemplate = template.Must(template.New("docs").Parse(pageText))

// Render renders doc as an HTML reference. source is the YAML doc was parsed
// from: the parsed document keeps paths in a map, the page lists them in the
// order the source does.
//
// The page's only style is the text of its one <style> element, so a caller
// can allow it by hash; it has no scripts, and refers to nothing but its own
// fragments. Render fails only if the template does.
func Render(doc *openapi3.T, source []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, buildDocsView(doc, yamlPathOrder(source))); err != nil {
		return nil, fmt.Errorf("render /docs: %w", err)
	}
	return buf.Bytes(), nil
}

// yamlPathOrder lists the keys of the document's paths object in source order.
func yamlPathOrder(src []byte) []string {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil || len(root.Content) == 0 {
		return nil
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "paths" {
			continue
		}
		paths := top.Content[i+1]
		var out []string
		for j := 0; j+1 < len(paths.Content); j += 2 {
			out = append(out, paths.Content[j].Value)
		}
		return out
	}
	return nil
}

// The view the template renders: plain values, so the template stays simple.

type docsView struct {
	Title       string
	Version     string
	Description []mdBlock
	Topics      []topic // the introduction's headings
	Groups      []opGroup
	Schemes     []schemeView
	Schemas     []namedSchema
}

type topic struct {
	Title  string
	Anchor string
}

type opGroup struct {
	Name        string
	Anchor      string
	Description []mdBlock
	Ops         []opView
}

type opView struct {
	Anchor      string
	Method      string
	MethodClass string
	Path        string
	Summary     string
	OperationID string
	Description []mdBlock
	Auth        string
	Roles       []string
	Params      []paramView
	Body        *bodyView
	Responses   []responseView
}

type paramView struct {
	Name        string
	In          string
	Required    bool
	Type        string
	Description []mdBlock
	Facts       [][]mdSpan
}

type bodyView struct {
	Required    bool
	Description []mdBlock
	Media       []mediaView
}

type mediaView struct {
	Type    string
	Schema  *schemaView
	Example string
	Open    bool // show the schema expanded
}

type responseView struct {
	Status      string
	Class       string // "ok", "redirect", "client", "server"
	Description []mdBlock
	Headers     []paramView
	Media       []mediaView
}

type schemeView struct {
	Name        string
	Kind        string
	Description []mdBlock
}

type namedSchema struct {
	Name   string
	Anchor string
	Schema *schemaView
}

// schemaView is one schema with its properties expanded.
type schemaView struct {
	Ref         string // the component's name when the schema is a $ref
	RefAnchor   string
	Type        string
	Description []mdBlock
	Facts       [][]mdSpan
	Props       []propView
	Items       *schemaView // for arrays
	Values      *schemaView // for maps (additionalProperties)
	Variants    []*schemaView
	VariantKind string // "One of", "Any of", "All of"
	Cut         bool   // not expanded again: a cycle or too deep
}

type propView struct {
	Name     string
	Required bool
	Schema   *schemaView
}

// HasDetails reports whether the schema has anything to show below its type line.
func (s *schemaView) HasDetails() bool {
	return s != nil && !s.Cut && (len(s.Props) > 0 || s.Items.HasDetails() || s.Values.HasDetails() || len(s.Variants) > 0)
}

var methodOrder = []string{"GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"}

func buildDocsView(doc *openapi3.T, pathOrder []string) docsView {
	v := docsView{}
	if doc.Info != nil {
		v.Title, v.Version, v.Description = doc.Info.Title, doc.Info.Version, markdown(doc.Info.Description)
		for i, b := range v.Description {
			if b.Kind == "h" {
				v.Description[i].Anchor = "intro-" + anchor(b.plain())
				v.Topics = append(v.Topics, topic{Title: b.plain(), Anchor: v.Description[i].Anchor})
			}
		}
	}

	groups := map[string]*opGroup{}
	var groupOrder []string
	addGroup := func(name, desc string) *opGroup {
		if g, ok := groups[name]; ok {
			return g
		}
		g := &opGroup{Name: name, Anchor: "tag-" + anchor(name), Description: markdown(desc)}
		groups[name] = g
		groupOrder = append(groupOrder, name)
		return g
	}
	for _, t := range doc.Tags {
		addGroup(t.Name, t.Description)
	}

	paths := doc.Paths.Map()
	order := slices.Clone(pathOrder)
	var rest []string
	for p := range paths {
		if !slices.Contains(order, p) {
			rest = append(rest, p)
		}
	}
	slices.Sort(rest)
	order = append(order, rest...)
	for _, p := range order {
		item := paths[p]
		if item == nil {
			continue
		}
		ops := item.Operations()
		for _, m := range methodOrder {
			op := ops[m]
			if op == nil {
				continue
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			g := addGroup(tag, "")
			g.Ops = append(g.Ops, buildOp(doc, m, p, item, op))
		}
	}
	for _, name := range groupOrder {
		if g := groups[name]; len(g.Ops) > 0 {
			v.Groups = append(v.Groups, *g)
		}
	}

	if doc.Components != nil {
		names := slices.Sorted(maps.Keys(doc.Components.SecuritySchemes))
		for _, n := range names {
			ref := doc.Components.SecuritySchemes[n]
			if ref == nil || ref.Value == nil {
				continue
			}
			v.Schemes = append(v.Schemes, schemeView{Name: n, Kind: schemeKind(ref.Value), Description: markdown(ref.Value.Description)})
		}
		names = slices.Sorted(maps.Keys(doc.Components.Schemas))
		for _, n := range names {
			ref := doc.Components.Schemas[n]
			if ref == nil || ref.Value == nil {
				continue
			}
			b := newSchemaBuilder()
			b.inside[n] = true // a schema that contains itself links to its own section
			sv := b.build(&openapi3.SchemaRef{Value: ref.Value}, 0)
			v.Schemas = append(v.Schemas, namedSchema{Name: n, Anchor: "schema-" + anchor(n), Schema: sv})
		}
	}
	return v
}

func buildOp(doc *openapi3.T, method, path string, item *openapi3.PathItem, op *openapi3.Operation) opView {
	id := op.OperationID
	if id == "" {
		id = method + " " + path
	}
	v := opView{
		Anchor:      "op-" + anchor(id),
		Method:      method,
		MethodClass: strings.ToLower(method),
		Path:        path,
		Summary:     op.Summary,
		OperationID: op.OperationID,
		Description: markdown(op.Description),
		Auth:        authText(doc, op),
	}
	if roles, ok := op.Extensions["x-roles"].([]any); ok {
		for _, r := range roles {
			v.Roles = append(v.Roles, fmt.Sprint(r))
		}
	}
	params := append(slices.Clone(item.Parameters), op.Parameters...)
	for _, pr := range params {
		if pr == nil || pr.Value == nil {
			continue
		}
		v.Params = append(v.Params, buildParam(pr.Value.Name, pr.Value.In, pr.Value.Required, pr.Value.Description, pr.Value.Schema))
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		v.Body = &bodyView{Required: rb.Value.Required, Description: markdown(rb.Value.Description), Media: buildMedia(rb.Value.Content, true)}
	}
	if op.Responses != nil {
		resp := op.Responses.Map()
		codes := slices.SortedFunc(maps.Keys(resp), func(a, b string) int { return cmp.Compare(statusKey(a), statusKey(b)) })
		for _, c := range codes {
			r := resp[c]
			if r == nil || r.Value == nil {
				continue
			}
			rv := responseView{Status: c, Class: statusClass(c)}
			if r.Value.Description != nil {
				rv.Description = markdown(*r.Value.Description)
			}
			hnames := slices.Sorted(maps.Keys(r.Value.Headers))
			for _, h := range hnames {
				hr := r.Value.Headers[h]
				if hr == nil || hr.Value == nil {
					continue
				}
				rv.Headers = append(rv.Headers, buildParam(h, "header", hr.Value.Required, hr.Value.Description, hr.Value.Schema))
			}
			rv.Media = buildMedia(r.Value.Content, rv.Class == "ok")
			v.Responses = append(v.Responses, rv)
		}
	}
	return v
}

func buildParam(name, in string, required bool, desc string, schema *openapi3.SchemaRef) paramView {
	p := paramView{Name: name, In: in, Required: required, Description: markdown(desc)}
	if schema != nil && schema.Value != nil {
		p.Type = typeLabel(schema)
		p.Facts = facts(schema.Value)
	}
	return p
}

// buildMedia lists the media types of a body. With open (request bodies and
// successful responses) schemas are expanded in place.
func buildMedia(content openapi3.Content, open bool) []mediaView {
	types := slices.Sorted(maps.Keys(content))
	var out []mediaView
	for _, t := range types {
		mt := content[t]
		if mt == nil {
			continue
		}
		m := mediaView{Type: t, Open: open}
		if mt.Schema != nil && mt.Schema.Value != nil {
			if name := componentName(mt.Schema.Ref); name != "" && !open {
				// Error answers share one envelope: link to it rather than
				// repeat it under every status of every operation.
				m.Schema = &schemaView{Ref: name, RefAnchor: "schema-" + anchor(name), Type: name, Cut: true}
			} else {
				m.Schema = newSchemaBuilder().build(mt.Schema, 0)
			}
		}
		m.Example = exampleText(mt.Example)
		if m.Example == "" {
			names := slices.Sorted(maps.Keys(mt.Examples))
			for _, n := range names {
				if ex := mt.Examples[n]; ex != nil && ex.Value != nil {
					m.Example = exampleText(ex.Value.Value)
					break
				}
			}
		}
		out = append(out, m)
	}
	return out
}

func exampleText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimRight(x, "\n")
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// maxSchemaDepth bounds how far nested schemas are expanded inline.
const maxSchemaDepth = 8

// schemaBuilder expands a schema, following $refs but never into a
// component it is already inside (recursive schemas).
type schemaBuilder struct {
	inside map[string]bool
}

func newSchemaBuilder() *schemaBuilder { return &schemaBuilder{inside: map[string]bool{}} }

func (b *schemaBuilder) build(ref *openapi3.SchemaRef, depth int) *schemaView {
	if ref == nil || ref.Value == nil {
		return nil
	}
	s := ref.Value
	v := &schemaView{Type: typeLabel(ref), Description: markdown(s.Description), Facts: facts(s)}
	if name := componentName(ref.Ref); name != "" {
		v.Ref, v.RefAnchor = name, "schema-"+anchor(name)
		if b.inside[name] || depth >= maxSchemaDepth {
			v.Cut = true
			return v
		}
		b.inside[name] = true
		defer delete(b.inside, name)
	}
	if depth >= maxSchemaDepth {
		v.Cut = true
		return v
	}
	// Required properties first, in the order the schema lists them; then the rest by name.
	var names, others []string
	for _, n := range s.Required {
		if _, ok := s.Properties[n]; ok && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for n := range s.Properties {
		if !slices.Contains(names, n) {
			others = append(others, n)
		}
	}
	slices.Sort(others)
	names = append(names, others...)
	for _, n := range names {
		v.Props = append(v.Props, propView{Name: n, Required: slices.Contains(s.Required, n), Schema: b.build(s.Properties[n], depth+1)})
	}
	if s.Items != nil {
		v.Items = b.build(s.Items, depth+1)
	}
	if s.AdditionalProperties.Schema != nil {
		v.Values = b.build(s.AdditionalProperties.Schema, depth+1)
	}
	for _, group := range []struct {
		kind string
		refs openapi3.SchemaRefs
	}{{"One of", s.OneOf}, {"Any of", s.AnyOf}, {"All of", s.AllOf}} {
		if len(group.refs) == 0 {
			continue
		}
		v.VariantKind = group.kind
		for _, r := range group.refs {
			v.Variants = append(v.Variants, b.build(r, depth+1))
		}
		break
	}
	return v
}

func componentName(ref string) string {
	const prefix = "#/components/schemas/"
	if i := strings.Index(ref, prefix); i >= 0 {
		return ref[i+len(prefix):]
	}
	return ""
}

// typeLabel is a short type for a schema: "string (email)", "array of User",
// "map of string", "User".
func typeLabel(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return "any"
	}
	if name := componentName(ref.Ref); name != "" {
		s := ref.Value
		if s.Type != nil && !s.Type.Is("object") && len(s.Properties) == 0 {
			return name + " (" + baseType(s) + ")"
		}
		return name
	}
	return baseType(ref.Value)
}

func baseType(s *openapi3.Schema) string {
	var t string
	switch {
	case s.Type != nil && len(s.Type.Slice()) > 0:
		t = strings.Join(s.Type.Slice(), " or ")
	case len(s.Properties) > 0:
		t = "object"
	case len(s.OneOf)+len(s.AnyOf)+len(s.AllOf) > 0:
		t = "composite"
	default:
		t = "any"
	}
	switch {
	case t == "array" && s.Items != nil:
		t = "array of " + typeLabel(s.Items)
	case t == "object" && s.AdditionalProperties.Schema != nil && len(s.Properties) == 0:
		t = "map of " + typeLabel(s.AdditionalProperties.Schema)
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if s.Nullable {
		t += ", nullable"
	}
	return t
}

// facts lists a schema's constraints in words, values as code spans.
func facts(s *openapi3.Schema) [][]mdSpan {
	var out [][]mdSpan
	add := func(words string, values ...string) {
		f := []mdSpan{{Text: words}}
		for i, v := range values {
			if i > 0 {
				f = append(f, mdSpan{Text: ", "})
			}
			f = append(f, mdSpan{Code: true, Text: v})
		}
		out = append(out, f)
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			vals[i] = literal(e)
		}
		if len(vals) == 1 {
			add("always ", vals...)
		} else {
			add("one of ", vals...)
		}
	}
	if s.Default != nil {
		add("default ", literal(s.Default))
	}
	switch {
	case s.MinLength == 1 && s.MaxLength == nil:
		add("not empty")
	case s.MinLength > 0 && s.MaxLength != nil:
		add(fmt.Sprintf("%d–%d characters", s.MinLength, *s.MaxLength))
	case s.MinLength > 0:
		add(fmt.Sprintf("at least %d characters", s.MinLength))
	case s.MaxLength != nil:
		add(fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	if s.Min != nil {
		add("minimum ", strconv.FormatFloat(*s.Min, 'f', -1, 64))
	}
	if s.Max != nil {
		add("maximum ", strconv.FormatFloat(*s.Max, 'f', -1, 64))
	}
	if s.MinItems > 0 {
		add(fmt.Sprintf("at least %d items", s.MinItems))
	}
	if s.MaxItems != nil {
		add(fmt.Sprintf("at most %d items", *s.MaxItems))
	}
	if s.Pattern != "" {
		add("pattern ", s.Pattern)
	}
	if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has && len(s.Properties) > 0 {
		add("no other fields")
	}
	if s.ReadOnly {
		add("read-only")
	}
	if s.WriteOnly {
		add("write-only")
	}
	if s.Deprecated {
		add("deprecated")
	}
	return out
}

func literal(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func authText(doc *openapi3.T, op *openapi3.Operation) string {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	if len(reqs) == 0 {
		return "None: public."
	}
	optional := false
	var schemes []string
	for _, r := range reqs {
		if len(r) == 0 {
			optional = true
			continue
		}
		names := make([]string, 0, len(r))
		for n := range r {
			names = append(names, schemeName(doc, n))
		}
		slices.Sort(names)
		schemes = append(schemes, strings.Join(names, " and "))
	}
	text := strings.Join(schemes, ", or ")
	if optional {
		return "Optional: " + text + ". Anonymous requests are served; a token that is sent must be valid."
	}
	return "Required: " + text + "."
}

func schemeName(doc *openapi3.T, name string) string {
	if doc.Components != nil {
		if ref := doc.Components.SecuritySchemes[name]; ref != nil && ref.Value != nil {
			return schemeKind(ref.Value)
		}
	}
	return name
}

func schemeKind(s *openapi3.SecurityScheme) string {
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		if s.BearerFormat != "" {
			return "bearer token (" + s.BearerFormat + ")"
		}
		return "bearer token"
	case s.Type == "http":
		return "HTTP " + s.Scheme
	case s.Type == "apiKey":
		return "API key in " + s.In + " " + s.Name
	}
	return s.Type
}

func statusKey(code string) string {
	if code == "default" {
		return "999"
	}
	return code
}

func statusClass(code string) string {
	switch {
	case strings.HasPrefix(code, "2"):
		return "ok"
	case strings.HasPrefix(code, "3"):
		return "redirect"
	case strings.HasPrefix(code, "4"):
		return "client"
	}
	return "server"
}

// anchor makes a fragment id from s: letters, digits and dashes.
func anchor(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// A small subset of Markdown, enough for the spec's descriptions: headings
// ("## "), bullet lists ("- "), paragraphs and `code` spans. Everything is
// rendered as text by the template, so nothing in a description becomes markup.

type mdBlock struct {
	Kind   string // "h", "p" or "ul"
	Text   []mdSpan
	Items  [][]mdSpan
	Anchor string // for headings of the introduction
}

// plain is a block's text without its code marks.
func (b mdBlock) plain() string {
	var sb strings.Builder
	for _, sp := range b.Text {
		sb.WriteString(sp.Text)
	}
	return sb.String()
}

type mdSpan struct {
	Code bool
	Text string
}

func markdown(src string) []mdBlock {
	var (
		blocks []mdBlock
		para   []string
		items  []string
	)
	flush := func() {
		if len(para) > 0 {
			blocks = append(blocks, mdBlock{Kind: "p", Text: spans(strings.Join(para, " "))})
			para = nil
		}
		if len(items) > 0 {
			b := mdBlock{Kind: "ul"}
			for _, it := range items {
				b.Items = append(b.Items, spans(it))
			}
			blocks = append(blocks, b)
			items = nil
		}
	}
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			flush()
		case strings.HasPrefix(trimmed, "#"):
			flush()
			blocks = append(blocks, mdBlock{Kind: "h", Text: spans(strings.TrimSpace(strings.TrimLeft(trimmed, "#")))})
		case strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "* "):
			if len(para) > 0 {
				flush()
			}
			items = append(items, strings.TrimSpace(trimmed[2:]))
		case len(items) > 0 && line != trimmed:
			items[len(items)-1] += " " + trimmed // an indented continuation of the item
		default:
			if len(items) > 0 {
				flush()
			}
			para = append(para, trimmed)
		}
	}
	flush()
	return blocks
}

// spans splits text on backticks into plain and code spans.
func spans(text string) []mdSpan {
	var out []mdSpan
	code := false
	for {
		i := strings.IndexByte(text, '`')
		if i < 0 || (!code && !strings.Contains(text[i+1:], "`")) {
			if text != "" {
				out = append(out, mdSpan{Code: code, Text: text})
			}
			return out
		}
		if i > 0 {
			out = append(out, mdSpan{Code: code, Text: text[:i]})
		}
		text = text[i+1:]
		code = !code
	}
}
