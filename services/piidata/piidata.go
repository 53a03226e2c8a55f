// Package piidata keeps the personal data the database holds sealed by
// services/pii. SealClear is the data step that seals what binaries older
// than sealing wrote in clear (`karigar migrate` and `serve` run it after
// the migrations, and serve again every hour while an older replica may
// still be writing); Rotate reseals every sealed value under the current
// key and recomputes every lookup hash (`karigar pii rotate-key`).
//
// Both walk a table in primary key order in batches of their own
// transactions, change a row only if it still holds what they read (a
// conditional UPDATE), and take nothing from memory but the place they have
// reached: stopped at any point, they are run again and finish the rest,
// and two replicas running them at once each do some of the rows, never
// the same row twice.
package piidata

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/pii"
)

// Column is one column of sealed values.
type Column struct {
	Table  string
	Keys   []string // the primary key: rows are walked in its order
	Sealed string   // the column of sealed values
	Bytes  bool     // stored as bytes ({{bytes}}) rather than text
	// Lookup is the keyed hash kept beside the sealed value ("" for none),
	// made from the opened value as LookupKind says.
	Lookup     string
	LookupKind LookupKind
	// UniqueWithin names the column that Lookup is unique within (a
	// unique index on (UniqueWithin, Lookup)), "" when it is not unique:
	// SealClear then leaves a row whose value another row of the same
	// scope holds, rather than fail the whole step on it.
	UniqueWithin string
	// Clear is where a binary older than sealing wrote the value in clear:
	// another column, emptied once its value is sealed into Sealed, or
	// Sealed itself (sealed in place). "" when nothing was ever clear.
	Clear string
	// Prepare gives what is sealed of a clear value (its normal form);
	// nil: the value as it is.
	Prepare func(clear string) string
}

// LookupKind says how a lookup hash is made.
type LookupKind int

const (
	PhoneLookup LookupKind = iota // pii.Box.Lookup: a phone number, in any of its writings
	TextLookup                    // pii.Box.LookupText: an exact text (a CNIC)
)

func (c Column) hash(b *pii.Box, plain string) string {
	if c.LookupKind == PhoneLookup {
		return b.Lookup(plain)
	}
	return b.LookupText(plain)
}

// hashes is the lookup hash of plain under every key the box holds.
func (c Column) hashes(b *pii.Box, plain string) []string {
	if c.LookupKind == PhoneLookup {
		return b.Lookups(plain)
	}
	return b.LookupTexts(plain)
}

// Name is "table.column" of the sealed values.
func (c Column) Name() string { return c.Table + "." + c.Sealed }

var cnicForm = regexp.MustCompile(`^([0-9]{5})-?([0-9]{7})-?([0-9])$`)

// Columns are every sealed column of the schema. A part of Karigar that
// stores a new sealed column adds it here, so that rotation reseals it.
var Columns = []Column{
	{Table: "artisans", Keys: []string{"id"}, Sealed: "phone_sealed", Lookup: "phone_lookup",
		LookupKind: PhoneLookup, Clear: "phone",
		Prepare: func(v string) string {
			if e164, ok := pii.NormalisePhone(v); ok {
				return e164
			}
			return strings.TrimSpace(v)
		}},
	{Table: "artisans", Keys: []string{"id"}, Sealed: "cnic_sealed", Lookup: "cnic_lookup",
		LookupKind: TextLookup, UniqueWithin: "group_id", Clear: "cnic",
		Prepare: func(v string) string {
			v = strings.TrimSpace(v)
			if m := cnicForm.FindStringSubmatch(v); m != nil {
				return m[1] + "-" + m[2] + "-" + m[3]
			}
			return v
		}},
	{Table: "orders", Keys: []string{"id"}, Sealed: "shipping_address", Clear: "shipping_address"},
	{Table: "idempotency_keys", Keys: []string{"user_id", "key"}, Sealed: "response_body", Bytes: true, Clear: "response_body"},
	{Table: "sms_messages", Keys: []string{"id"}, Sealed: "to_sealed"},
}

// Options tune a run.
type Options struct {
	Batch   int      // rows per transaction; default 200
	Columns []Column // default Columns
}

func (o Options) batch() int {
	if o.Batch <= 0 {
		return 200
	}
	return o.Batch
}

func (o Options) columns() []Column {
	if o.Columns == nil {
		return Columns
	}
	return o.Columns
}

// Result is what a run did to one column.
type Result struct {
	Column string // "table.column" of the sealed values
	// Done is how many values were sealed (SealClear) or resealed under
	// the current key with their lookup hash recomputed (Rotate).
	Done int
	// Current is how many values Rotate found under the current key
	// already (counted when it ends).
	Current int
	// Failed names the rows (by primary key) whose value could not be
	// opened with any key held (Rotate), or whose CNIC another row of
	// their group holds already (SealClear): they are left as they are.
	Failed []string
}

// SealClear seals every value an older binary wrote in clear: into the
// sealed column with its lookup hash, the clear one emptied, or in place.
// A row that cannot be sealed (its CNIC is another's in its group) is left
// and named in Failed; the error is for the database failing. Rows another
// transaction holds are passed over (FOR NO KEY UPDATE SKIP LOCKED on
// PostgreSQL), so that replicas starting together share the work: a row
// passed over is sealed by whoever holds it or by the next run.
func SealClear(ctx context.Context, db *gorm.DB, box *pii.Box, opt Options) ([]Result, error) {
	var out []Result
	for _, c := range opt.columns() {
		if c.Clear == "" {
			continue
		}
		r, err := walk(ctx, db, box, c, opt.batch(), sealing)
		if err != nil {
			return out, fmt.Errorf("seal %s: %w", c.Name(), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Rotate reseals every sealed value that is not under box's current key
// and recomputes its lookup hash. box must hold the key each value was
// sealed under (the previous keys); a value it cannot open is left and
// named in Failed. Servers may run meanwhile if they hold both keys, the
// new one as current: what they write is under it already, and a row one
// of them changes while Rotate reads it waits for the change to commit and
// is then left to it.
func Rotate(ctx context.Context, db *gorm.DB, box *pii.Box, opt Options) ([]Result, error) {
	var out []Result
	for _, c := range opt.columns() {
		r, err := walk(ctx, db, box, c, opt.batch(), rotating)
		if err != nil {
			return out, fmt.Errorf("rotate %s: %w", c.Name(), err)
		}
		var n int64
		if err := db.WithContext(ctx).Table(c.Table).Where(c.Sealed + " IS NOT NULL AND " + prefixIs(db, c, c.Sealed, box.CurrentPrefix(), true)).
			Count(&n).Error; err != nil {
			return out, err
		}
		r.Current = max(int(n)-r.Done, 0)
		out = append(out, r)
	}
	return out, nil
}

type mode int

const (
	sealing  mode = iota // SealClear
	rotating             // Rotate
)

// source is the column a walk reads values from.
func (m mode) source(c Column) string {
	if m == sealing {
		return c.Clear
	}
	return c.Sealed
}

// want is the condition of the rows a walk changes.
func (m mode) want(db *gorm.DB, c Column, box *pii.Box) string {
	if m == rotating {
		return c.Sealed + " IS NOT NULL AND " + prefixIs(db, c, c.Sealed, box.CurrentPrefix(), false)
	}
	w := c.Clear + " IS NOT NULL"
	if c.Clear == c.Sealed {
		w += " AND " + prefixIs(db, c, c.Clear, pii.SealedPrefix, false)
	}
	return w
}

// lock is how a walk's read locks its rows on PostgreSQL (never the key,
// so foreign keys to the rows are not held up).
func (m mode) lock() string {
	if m == sealing {
		return " FOR NO KEY UPDATE SKIP LOCKED"
	}
	return " FOR NO KEY UPDATE"
}

// set is what is written over v, the value read from m.source(c); nil
// leaves the row as it is, and failed says the row was left because it
// cannot be done.
func (m mode) set(tx *gorm.DB, c Column, box *pii.Box, keys []string, v string) (set map[string]any, failed bool, err error) {
	var plain string
	switch {
	case m == sealing && c.Clear == c.Sealed && pii.IsSealed(v):
		return nil, false, nil // sealed meanwhile
	case m == sealing:
		plain = v
		if c.Prepare != nil {
			plain = c.Prepare(v)
		}
		if c.UniqueWithin != "" {
			taken, err := takenInScope(tx, c, box, keys, plain)
			if err != nil || taken {
				return nil, taken, err
			}
		}
	case box.SealedUnderCurrent(v):
		return nil, false, nil
	default:
		if plain, err = box.Open(v); err != nil {
			return nil, true, nil
		}
	}
	sealed, err := box.Seal(plain)
	if err != nil {
		return nil, false, err
	}
	set = map[string]any{c.Sealed: stored(c, sealed)}
	if c.Lookup != "" {
		set[c.Lookup] = c.hash(box, plain)
	}
	if m == sealing && c.Clear != c.Sealed {
		set[c.Clear] = nil
	}
	return set, false, nil
}

// walk changes the rows of c.Table that m wants, in primary key order,
// batch rows per transaction.
func walk(ctx context.Context, db *gorm.DB, box *pii.Box, c Column, batch int, m mode) (Result, error) {
	res := Result{Column: c.Name()}
	from := m.source(c)
	var after []string
	for {
		var (
			done   int
			failed []string
			read   int
			last   []string
		)
		err := models.Transact(ctx, db, func(tx *gorm.DB) error {
			done, failed, read, last = 0, nil, 0, nil // a retried transaction counts afresh
			q, args := selectBatch(db, c, from, m.want(db, c, box), after, batch, m.lock())
			rows, err := tx.Raw(q, args...).Rows()
			if err != nil {
				return err
			}
			type row struct {
				keys []string
				v    []byte
			}
			var got []row
			for rows.Next() {
				r := row{keys: make([]string, len(c.Keys))}
				dest := make([]any, 0, len(c.Keys)+1)
				for i := range r.keys {
					dest = append(dest, &r.keys[i])
				}
				if err := rows.Scan(append(dest, &r.v)...); err != nil {
					_ = rows.Close()
					return err
				}
				got = append(got, r)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			for _, r := range got {
				set, cannot, err := m.set(tx, c, box, r.keys, string(r.v))
				if err != nil {
					return err
				}
				if cannot {
					failed = append(failed, strings.Join(r.keys, "/"))
				}
				if set == nil {
					continue
				}
				cols := make([]string, 0, len(set))
				for col := range set {
					cols = append(cols, col)
				}
				sort.Strings(cols)
				assign := make([]string, len(cols))
				args := make([]any, 0, len(cols)+len(r.keys)+1)
				for i, col := range cols {
					assign[i] = col + " = ?"
					args = append(args, set[col])
				}
				args = append(append(args, keyArgs(r.keys)...), stored(c, string(r.v)))
				// Only if the row still holds what was read: a writer that
				// changed it meanwhile wrote it sealed under the current key.
				u := tx.Exec("UPDATE "+c.Table+" SET "+strings.Join(assign, ", ")+" WHERE "+keyEquals(c)+" AND "+from+" = ?", args...)
				if u.Error != nil {
					return u.Error
				}
				done += int(u.RowsAffected)
			}
			read = len(got)
			if read > 0 {
				last = got[read-1].keys
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Done += done
		res.Failed = append(res.Failed, failed...)
		if read < batch {
			return res, nil
		}
		after = last
	}
}

// selectBatch reads the next batch after the keys of the last row read.
func selectBatch(db *gorm.DB, c Column, from, want string, after []string, batch int, lock string) (string, []any) {
	cols := make([]string, 0, len(c.Keys)+1)
	for i, k := range c.Keys {
		// Named apart from the key, so that ORDER BY names the column
		// (and its index) rather than this text.
		cols = append(cols, fmt.Sprintf("CAST(%s AS TEXT) AS piidata_k%d", k, i))
	}
	q := "SELECT " + strings.Join(append(cols, from+" AS piidata_v"), ", ") + " FROM " + c.Table + " WHERE " + want
	var args []any
	if after != nil {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(after)), ", ")
		q += " AND (" + strings.Join(c.Keys, ", ") + ") > (" + marks + ")"
		args = keyArgs(after)
	}
	q += " ORDER BY " + strings.Join(c.Keys, ", ") + fmt.Sprintf(" LIMIT %d", batch)
	if models.DialectOf(db) == models.Postgres {
		q += lock
	}
	return q, args
}

// takenInScope reports whether another row of the scope (the group) holds
// plain already, under any key the box holds or in clear.
func takenInScope(tx *gorm.DB, c Column, box *pii.Box, keys []string, plain string) (bool, error) {
	if len(c.Keys) != 1 {
		return false, fmt.Errorf("%s: a unique lookup needs a one-column primary key", c.Name())
	}
	k := c.Keys[0]
	var n int64
	err := tx.Table(c.Table).Where(c.UniqueWithin+" = (SELECT "+c.UniqueWithin+" FROM "+c.Table+" WHERE "+k+" = ?) AND "+k+" <> ? AND ("+
		c.Lookup+" IN ? OR "+c.Clear+" = ?)", keys[0], keys[0], c.hashes(box, plain), plain).Count(&n).Error
	return n > 0, err
}

// prefixIs is the condition that col begins (or, with is false, does not
// begin) with prefix, a constant of letters, digits and dots written into
// the statement so that a partial index on the same condition
// (orders_clear_address_idx) serves it. A bytes column is compared as
// bytes on PostgreSQL and as text on SQLite.
func prefixIs(db *gorm.DB, c Column, col, prefix string, is bool) string {
	if strings.Trim(prefix, "abcdefghijklmnopqrstuvwxyz0123456789.") != "" {
		panic("piidata: prefix " + prefix + " is not a plain constant")
	}
	op := " <> "
	if is {
		op = " = "
	}
	part := fmt.Sprintf("substr(%s, 1, %d)", col, len(prefix))
	lit := "'" + prefix + "'"
	if c.Bytes {
		if models.DialectOf(db) == models.Postgres {
			lit += "::bytea"
		} else {
			part = "CAST(" + part + " AS TEXT)"
		}
	}
	return part + op + lit
}

func keyEquals(c Column) string {
	parts := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		parts[i] = k + " = ?"
	}
	return strings.Join(parts, " AND ")
}

func keyArgs(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// stored is v as the column holds it.
func stored(c Column, v string) any {
	if c.Bytes {
		return []byte(v)
	}
	return v
}
