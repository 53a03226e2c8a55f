package api

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	qrcode "github.com/yeqown/go-qrcode/v2"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/pricing"
)

// The public product page is what a buyer reaches from the QR code on a
// product's tag: plain HTML with no scripts, so it opens on any phone and
// prints as it looks. Like /docs, its policy allows its own inline style by
// hash; images may come from any https host, where product photos are, and
// from the site itself, for the QR code the printed page carries.

//go:embed product_page.html
var productPageText string

var productPageTemplates = template.Must(template.New("product page").Parse(productPageText))

var productPageCSP = func() string {
	var buf bytes.Buffer
	if err := productPageTemplates.ExecuteTemplate(&buf, "style", nil); err != nil {
		panic(err)
	}
	csp, err := pageCSP(buf.Bytes(), "'self' https: data:")
	if err != nil {
		panic(err)
	}
	return csp
}()

// productPage renders a published product for anyone; every other id gets
// the HTML 404 page, since people reach it from printed tags, not from code.
func (s *Server) productPage(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		renderProductPage(c, http.StatusNotFound, "notice", missingPage)
		return
	}
	t, err := s.catalog.Transparency(c.Request.Context(), services.Actor{}, id)
	if services.IsCode(err, services.CodeNotFound) {
		renderProductPage(c, http.StatusNotFound, "notice", missingPage)
		return
	}
	if services.IsCode(err, services.CodeProductUnavailable) {
		// Withdrawn until it is repriced: the tag still leads somewhere that says so.
		p, gerr := s.catalog.Get(c.Request.Context(), services.Actor{}, id)
		if gerr != nil {
			writeError(c, gerr)
			return
		}
		renderProductPage(c, http.StatusOK, "notice", noticeView{PageTitle: p.Title + " · not for sale now",
			Heading: p.Title + " is not for sale now", Text: p.Group.Name + " is updating its price so that it still pays " +
				"the makers fairly after a change in costs or fees. Please check again soon."})
		return
	}
	if err != nil {
		writeError(c, err)
		return
	}
	v := newProductView(t, s.pageURL(id))
	v.Photos = s.photoViews(v.Title, t.Product.Photos)
	renderProductPage(c, http.StatusOK, "product", v)
}

// productQR is a PNG QR code of a published product's page, for its tag.
func (s *Server) productQR(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		writeError(c, services.NotFound("product"))
		return
	}
	if _, err := s.catalog.Get(c.Request.Context(), services.Actor{}, id); err != nil {
		writeError(c, err)
		return
	}
	img, err := qrPNG(s.pageURL(id))
	if err != nil {
		writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "image/png", img)
}

// pageURL is the canonical public address of a product's page: the one its
// QR code holds, whatever spelling of the id the request used.
func (s *Server) pageURL(id uuid.UUID) string { return s.public + "/p/" + id.String() }

func renderProductPage(c *gin.Context, status int, name string, view any) {
	var buf bytes.Buffer
	if err := productPageTemplates.ExecuteTemplate(&buf, name, view); err != nil {
		writeError(c, err)
		return
	}
	c.Header("Content-Security-Policy", productPageCSP)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// productView is everything the page shows, already in words and rupees.
type productView struct {
	Title, TitleUrdu string
	Description      string
	Photo            string      // a picture hosted elsewhere, when there is no uploaded photo
	Photos           []photoView // the uploaded photos, the first shown large
	Group, Place     string
	Price            string
	ToMakers         string
	ToMakersPercent  string
	BarWidth         int64
	Lines            []lineView
	Wage             wageView
	Makers           []makerView
	URL, QR          string
}

// noticeView is a page that only tells the reader something: that a
// product is not found, or not for sale now.
type noticeView struct {
	PageTitle, Heading, Text string
}

var missingPage = noticeView{PageTitle: "Product not found", Heading: "We can't find this product",
	Text: "It may have sold out and been taken down, or the link may be mistyped. Check the address on the tag, " +
		"or ask the seller for a new link."}

type lineView struct {
	Kind, Label     string
	Amount, Percent string
	X, Width        int64 // the line's part of the bar, in units of BarWidth
}

type wageView struct {
	Sentence  string
	Meets     bool
	Work      string
	Benchmark string
}

type makerView struct {
	Name, District, Skills string
}

// photoView is an uploaded photo as an <img>: the medium size as its src
// (what a phone shows), every size in its srcset with its width, so the
// browser fetches the smallest that fills its box on the screen it has.
type photoView struct {
	Src, SrcSet, Alt string
	Width, Height    int
}

func (s *Server) photoViews(title string, photos []models.ProductImage) []photoView {
	out := make([]photoView, len(photos))
	for i, p := range photos {
		alt := p.Alt
		if alt == "" {
			alt = p.AltUr
		}
		if alt == "" {
			alt = fmt.Sprintf("Photo %d of %s", i+1, title)
		}
		out[i] = photoView{Src: s.mediaURL(p.MediumKey), Alt: alt, Width: p.MediumWidth, Height: p.MediumHeight,
			SrcSet: fmt.Sprintf("%s %dw, %s %dw, %s %dw", s.mediaURL(p.ThumbKey), p.ThumbWidth,
				s.mediaURL(p.MediumKey), p.MediumWidth, s.mediaURL(p.LargeKey), p.LargeWidth)}
	}
	return out
}

// barWidth is the chart's width in SVG units: fine enough that a part worth
// a tenth of a percent still shows.
const barWidth = 1000

// lineOrder puts what reaches the makers first, so it reads as one block at
// the left of the bar; the costs and fees follow.
var lineOrder = []string{pricing.ArtisanLabor, pricing.GroupMargin, pricing.CollectiveFund, pricing.Materials,
	pricing.Packaging, pricing.PlatformFee, pricing.PaymentProcessing}

func newProductView(t catalog.Transparency, url string) productView {
	p := t.Product
	en, ur := splitTitle(p.Title)
	v := productView{Title: en, TitleUrdu: ur, Description: p.Description, Group: p.Group.Name,
		Place: joinNonEmpty(", ", p.Group.District, provinceName(p.Group.Province)),
		Price: rupees(p.Price, p.Currency), BarWidth: barWidth, URL: url, QR: "/p/" + p.ID.String() + "/qr.png"}
	if i := slices.IndexFunc(p.Images, func(u string) bool { return strings.HasPrefix(u, "https://") }); i >= 0 {
		v.Photo = p.Images[i] // the policy admits https images only
	}

	lines := slices.Clone(t.Lines)
	slices.SortStableFunc(lines, func(a, b catalog.Line) int { return rank(a.Kind) - rank(b.Kind) })
	var toMakers, before int64
	for _, l := range lines {
		lv := lineView{Kind: kindClass(l.Kind), Label: l.Label, Amount: rupees(l.Amount, p.Currency),
			Percent: percentOf(l.Amount, p.Price)}
		if l.Amount > 0 && p.Price > 0 {
			lv.X = before * barWidth / p.Price
			lv.Width = max((before+l.Amount)*barWidth/p.Price-lv.X, 1)
		}
		before += l.Amount
		if l.Kind == pricing.ArtisanLabor || l.Kind == pricing.GroupMargin {
			toMakers += l.Amount
		}
		v.Lines = append(v.Lines, lv)
	}
	v.ToMakers, v.ToMakersPercent = rupees(toMakers, p.Currency), percentOf(toMakers, p.Price)
	v.Wage = newWageView(t)
	for _, m := range p.Makers {
		v.Makers = append(v.Makers, makerView{Name: m.DisplayName, District: m.District, Skills: strings.Join(m.Skills, ", ")})
	}
	return v
}

func rank(kind string) int {
	if i := slices.Index(lineOrder, kind); i >= 0 {
		return i
	}
	return len(lineOrder)
}

// kindClass names the line's colour in the stylesheet; a kind the page does
// not know yet is drawn in a neutral colour rather than not at all.
func kindClass(kind string) string {
	if slices.Contains(lineOrder, kind) {
		return kind
	}
	return "other"
}

func newWageView(t catalog.Transparency) wageView {
	p, b := t.Product, t.Benchmark
	w := wageView{Meets: t.MeetsBenchmark, Work: catalog.Duration(p.LaborMinutes)}
	earn := "Makers earn " + rupees(t.EffectiveHourlyWage, p.Currency) + "/hour"
	if b.Currency != p.Currency || b.Hourly <= 0 {
		w.Sentence = earn + " from this piece. There is no minimum wage in " + p.Currency + " to compare it with."
		return w
	}
	name, bench := benchmarkName(b, p.Group.Province), rupees(b.Hourly, b.Currency)+"/hour"
	if t.MeetsBenchmark {
		w.Sentence = fmt.Sprintf("%s — %d.%d× %s (%s).", earn, t.RatioBPS/10000, t.RatioBPS%10000/1000, name, bench)
	} else {
		// Rounded down, like the ratio above: the page never flatters.
		w.Sentence = fmt.Sprintf("%s — below %s of %s (%d%% of it).", earn, name, bench, t.RatioBPS/100)
	}
	w.Benchmark = b.Name + ", " + rupees(b.Monthly, b.Currency) + " a month"
	if b.Source != "" {
		w.Benchmark += " (" + b.Source + ")"
	}
	return w
}

// benchmarkName says whose minimum wage the makers are compared with: their
// province's, or the federal one where the province has none of its own.
func benchmarkName(b models.WageBenchmark, province models.Province) string {
	switch {
	case b.Region == string(province):
		return provinceName(province) + "'s minimum wage"
	case b.Region == models.FederalRegion:
		return "the federal minimum wage"
	}
	return "the " + b.Name
}

func provinceName(p models.Province) string {
	for _, q := range models.Provinces {
		if q.Slug == p {
			return q.Name
		}
	}
	return string(p)
}

// splitTitle separates "Sindhi ralli quilt — رلی" into its English and Urdu
// names. A title whose last " — " part has no Arabic-script letters is all
// English: the dash is then part of the name.
func splitTitle(title string) (en, ur string) {
	i := strings.LastIndex(title, " — ")
	if i < 0 {
		return title, ""
	}
	rest := strings.TrimSpace(title[i+len(" — "):])
	if !strings.ContainsFunc(rest, func(r rune) bool { return unicode.Is(unicode.Arabic, r) && unicode.IsLetter(r) }) {
		return title, ""
	}
	return strings.TrimSpace(title[:i]), rest
}

// rupees is minor units as people read them ("Rs 3,000.00", as everywhere
// money is written for people), with a no-break space so that a line never
// ends between "Rs" and the number.
func rupees(amount int64, currency string) string {
	return strings.Replace(models.NewMoney(amount, currency).String(), " ", "\u00a0", 1)
}

// percentOf is part of whole as a percentage with one decimal, rounded half
// up in integers: 50000 of 300000 is "16.7%".
func percentOf(part, whole int64) string {
	if whole <= 0 {
		return "0.0%"
	}
	tenths := (part*2000 + whole) / (2 * whole)
	return fmt.Sprintf("%d.%d%%", tenths/10, tenths%10)
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}

// qrModule and qrQuiet size the printed code: 8 pixels a module scans well
// from a tag, and the standard asks for a 4-module margin around it.
const (
	qrModule = 8
	qrQuiet  = 4
)

// qrPNG encodes text as a black-on-white QR code.
func qrPNG(text string) ([]byte, error) {
	code, err := qrcode.New(text)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	var m matrixCapture
	if err := code.Save(&m); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	size := (len(m.bits) + 2*qrQuiet) * qrModule
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y, row := range m.bits {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range qrModule {
				for dx := range qrModule {
					img.SetColorIndex((x+qrQuiet)*qrModule+dx, (y+qrQuiet)*qrModule+dy, 1)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return buf.Bytes(), nil
}

// matrixCapture is a qrcode.Writer that keeps the modules, so the PNG is
// drawn here with the standard library rather than a drawing package.
type matrixCapture struct{ bits [][]bool }

func (m *matrixCapture) Write(mat qrcode.Matrix) error { m.bits = mat.Bitmap(); return nil }
func (m *matrixCapture) Close() error                  { return nil }
