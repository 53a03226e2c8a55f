package api

import "time"

// Shapes that many response types share: a page of a list, and times
// always rendered in UTC.

type listResponse[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// newList converts one page of items; next is the cursor of the page after
// it, and an empty next (the last page) renders as null.
func newList[S, T any](items []S, next string, convert func(S) T) listResponse[T] {
	out := listResponse[T]{Data: make([]T, len(items))}
	for i, it := range items {
		out.Data[i] = convert(it)
	}
	if next != "" {
		out.NextCursor = &next
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
