package api

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/fairs"
)

// The label sheet is an A4 page of price tags for an event's stalls, to
// print and cut: plain HTML with its one inline style and no scripts, each
// tag's QR code inlined as a data: image, so that the page prints the same
// offline. The QR codes hold the products' public pages (pageURL).

//go:embed fair_labels.html
var fairLabelsText string

var fairLabelsTemplates = template.Must(template.New("labels").Parse(fairLabelsText))

var fairLabelsCSP = func() string {
	var buf bytes.Buffer
	if err := fairLabelsTemplates.ExecuteTemplate(&buf, "style", nil); err != nil {
		panic(err)
	}
	csp, err := pageCSP(buf.Bytes(), "data:")
	if err != nil {
		panic(err)
	}
	return csp
}()

type labelSheetView struct {
	Event, Venue, When string
	Tags               []tagView
}

type tagView struct {
	ID               string
	Title, TitleUrdu string
	Group            string
	Price, ToMakers  string
	Share            string
	URL              string
	QR               template.URL // a data: URL of the PNG
}

// fairTime is how a time is written for people at a fair.
func fairTime(t time.Time) string { return t.In(fairs.Karachi).Format("Mon 2 Jan 2006, 15:04") }

func (s *Server) eventLabels(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var group *uuid.UUID
	if raw := c.Query("group_id"); raw != "" {
		g, err := uuid.Parse(raw)
		if err != nil {
			writeError(c, services.BadRequest("group_id %q is not a UUID", raw))
			return
		}
		group = &g
	}
	sheet, err := s.fairs.Labels(c.Request.Context(), id, group)
	if err != nil {
		writeError(c, err)
		return
	}
	ev := sheet.Event
	v := labelSheetView{Event: ev.Name, Venue: joinNonEmpty(", ", ev.Venue, ev.District),
		When: fairTime(ev.StartsAt) + " to " + fairTime(ev.EndsAt)}
	for _, l := range sheet.Labels {
		url := s.pageURL(l.ProductID)
		png, err := qrPNG(url)
		if err != nil {
			writeError(c, err)
			return
		}
		en, ur := splitTitle(l.Title)
		v.Tags = append(v.Tags, tagView{ID: l.ProductID.String(), Title: en, TitleUrdu: ur, Group: l.GroupName,
			Price: rupees(l.Price, l.Currency), ToMakers: rupees(l.ToMakers, l.Currency), Share: percentOf(l.ToMakers, l.Price),
			URL: url, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
	}
	var buf bytes.Buffer
	if err := fairLabelsTemplates.ExecuteTemplate(&buf, "labels", v); err != nil {
		writeError(c, err)
		return
	}
	c.Header("Content-Security-Policy", fairLabelsCSP)
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}
