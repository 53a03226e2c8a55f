package api

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/karigar/karigar/models"
)

// A report's CSV is built from its JSON response value, so that it holds
// every figure of the JSON form by construction, a field added to a
// response included. It is sections separated by a blank line: first
// field,value rows for every scalar (nested objects' names joined by "_",
// as period_from or fees_platform_rs), then one table for each list (the
// artisans, the findings), a header row and a row per item. Amounts are
// rupees with two decimals under names ending in _rs, with the currency
// once in the first section; labour minutes are followed by hours.

var (
	moneyType = reflect.TypeOf(models.Money{})
	timeType  = reflect.TypeOf(time.Time{})
)

// reportCSV is the sections of a report response (a struct; see above).
func reportCSV(report any, currency string) [][][]string {
	summary := [][]string{{"field", "value"}, {"currency", currency}}
	var tables [][][]string
	v := reflect.ValueOf(report)
	for i := range v.NumField() {
		f := v.Field(i)
		name := jsonName(v.Type().Field(i))
		if f.Kind() == reflect.Slice {
			header, rows := csvTable(f)
			tables = append(tables, append([][]string{header}, rows...))
			continue
		}
		names, cells := csvCells(name, f)
		for j := range names {
			summary = append(summary, []string{names[j], cells[j]})
		}
	}
	return append([][][]string{summary}, tables...)
}

// csvTable is the header and the rows of a slice of structs.
func csvTable(list reflect.Value) ([]string, [][]string) {
	var header []string
	item := reflect.New(list.Type().Elem()).Elem()
	for i := range item.NumField() {
		names, _ := csvCells(jsonName(item.Type().Field(i)), item.Field(i))
		header = append(header, names...)
	}
	rows := make([][]string, 0, list.Len())
	for n := range list.Len() {
		var row []string
		item := list.Index(n)
		for i := range item.NumField() {
			_, cells := csvCells(jsonName(item.Type().Field(i)), item.Field(i))
			row = append(row, cells...)
		}
		rows = append(rows, row)
	}
	return header, rows
}

// csvCells is the column names and cells of one field: a struct is
// flattened, Money becomes rupees, nil an empty cell.
func csvCells(name string, f reflect.Value) ([]string, []string) {
	t := f.Type()
	if t.Kind() == reflect.Pointer {
		if f.IsNil() {
			f = reflect.New(t.Elem()).Elem() // for the names; the cells are empty
			names, cells := csvCells(name, f)
			for i := range cells {
				cells[i] = ""
			}
			return names, cells
		}
		return csvCells(name, f.Elem())
	}
	switch {
	case t == moneyType:
		return []string{name + "_rs"}, []string{csvRupees(f.Interface().(models.Money).Amount)}
	case t == timeType:
		return []string{name}, []string{f.Interface().(time.Time).UTC().Format(time.RFC3339Nano)}
	case t.Kind() == reflect.Struct:
		var names, cells []string
		for i := range f.NumField() {
			n, c := csvCells(name+"_"+jsonName(t.Field(i)), f.Field(i))
			names, cells = append(names, n...), append(cells, c...)
		}
		return names, cells
	case t.Kind() == reflect.Bool:
		return []string{name}, []string{strconv.FormatBool(f.Bool())}
	case t.Kind() == reflect.String:
		return []string{name}, []string{f.String()}
	case f.CanInt():
		n := f.Int()
		if name == "labor_minutes" {
			return []string{name, "hours"}, []string{strconv.FormatInt(n, 10), csvHours(n)}
		}
		return []string{name}, []string{strconv.FormatInt(n, 10)}
	}
	panic("api: a report field of type " + t.String() + " has no CSV form") // a new response field: caught by the tests
}

// jsonName is a struct field's name in the JSON form.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// plainNumber is a whole cell that is a decimal number, as csvRupees,
// csvHours and strconv write them.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// csvText neutralises a cell a spreadsheet would read as a formula: one
// that begins with =, +, -, @, a tab or a carriage return is written with a
// leading ', which shows it as text. A cell that is wholly a decimal number
// is left alone whoever wrote it: no spreadsheet reads -150.00 as anything
// but a number, it can call nothing, and quoting it would turn every
// negative amount (a refund, a balance) into text that sums to zero.
func csvText(cell string) string {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) || plainNumber.MatchString(cell) {
		return cell
	}
	return "'" + cell
}
