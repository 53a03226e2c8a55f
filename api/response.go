package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/page"
)

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

// pageUnder serves a page of what belongs to the resource the path's id
// names: the id and ?limit= parsed (400 when bad), list called with the
// caller, the id, ?cursor= and the limit, and the page rendered.
func pageUnder[S, T any](c *gin.Context, list func(context.Context, services.Actor, uuid.UUID, string, int) ([]S, string, error),
	render func(S) T) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	items, next, err := list(c.Request.Context(), actorOf(c), id, c.Query("cursor"), limit)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(items, next, render))
}

// created answers 201 with body and a Location naming the created resource:
// its URL under Base, built from parts (each one path-escaped). That is
// where the resource is read when it has a GET, and the URL it is acted on
// by otherwise (a manager's or an auditor's assignment, a password reset).
func created(c *gin.Context, body any, parts ...string) {
	c.Header("Location", location(parts...))
	c.JSON(http.StatusCreated, body)
}

// location is the URL under Base built from parts, each one path-escaped.
func location(parts ...string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = url.PathEscape(p)
	}
	return Base + "/" + strings.Join(esc, "/")
}
