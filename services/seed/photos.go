package seed

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/media"
)

// The demo seed gives the first product of each demo group a picture drawn
// here (no photograph is shipped or fetched): a pattern in the manner of the
// product's craft, in a palette of the group's own, uploaded through the
// photo service like any manager's photo, so the catalogue's thumbnails, the
// product pages' srcset and storage all have something to show.

// demoPhotoSize is the drawn picture's size: small, so seeding stays quick.
const demoPhotoWidth, demoPhotoHeight = 640, 480

// palettes are the demo groups' colours, by group index.
var palettes = [][]color.RGBA{
	{{178, 34, 34, 255}, {20, 20, 20, 255}, {36, 58, 122, 255}, {240, 232, 214, 255}},  // ralli red, black, indigo, cream
	{{25, 70, 140, 255}, {245, 245, 240, 255}, {90, 140, 200, 255}, {30, 30, 60, 255}}, // Multani blue
	{{150, 30, 40, 255}, {30, 30, 30, 255}, {20, 60, 120, 255}, {230, 220, 200, 255}},  // ajrak
	{{200, 120, 40, 255}, {110, 60, 30, 255}, {240, 210, 160, 255}, {60, 90, 50, 255}},
	{{120, 40, 110, 255}, {240, 200, 60, 255}, {30, 110, 90, 255}, {245, 240, 230, 255}},
	{{60, 110, 60, 255}, {230, 200, 120, 255}, {140, 70, 40, 255}, {250, 245, 235, 255}},
}

// uploadDemoPhoto draws a picture for dp and uploads it to the product.
func uploadDemoPhoto(ctx context.Context, s Services, manager services.Actor, productID uuid.UUID, dp demoProduct, group int) error {
	img := drawCraft(dp.Category, palettes[group%len(palettes)])
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	alt := "A drawn " + craftPattern(dp.Category) + " pattern standing in for a photo of " + dp.Title
	altUr := "تصویر کی جگہ بنایا گیا نمونہ"
	_, err := s.Media.Upload(ctx, manager, productID, buf.Bytes(), media.Text{Alt: &alt, AltUr: &altUr})
	return err
}

func craftPattern(category string) string {
	switch category {
	case "quilts", "textiles":
		return "patchwork"
	case "pottery", "food", "pickles":
		return "ringed"
	case "block_prints", "basketry":
		return "block-printed"
	}
	return "embroidered"
}

// drawCraft draws a pattern: patchwork triangles and squares, concentric
// rings, a block-printed grid of rosettes, or rows of stitched diamonds.
func drawCraft(category string, pal []color.RGBA) *image.RGBA {
	w, h := demoPhotoWidth, demoPhotoHeight
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	pattern := craftPattern(category)
	for y := range h {
		for x := range w {
			var c color.RGBA
			switch pattern {
			case "patchwork":
				cx, cy := x/80, y/80
				fx, fy := x%80, y%80
				k := (cx + 2*cy) % len(pal)
				if fx > fy { // each square split on its diagonal
					k = (k + 1) % len(pal)
				}
				if fx < 3 || fy < 3 { // the stitched seams
					k = len(pal) - 1
				}
				c = pal[k]
			case "ringed":
				d := math.Hypot(float64(x-w/2), float64(y-h/2))
				c = pal[int(d/18)%len(pal)]
				if int(d)%18 < 2 {
					c = pal[len(pal)-1]
				}
			case "block-printed":
				fx, fy := float64(x%60-30), float64(y%60-30)
				r := math.Hypot(fx, fy)
				petal := math.Abs(math.Cos(4 * math.Atan2(fy, fx)))
				c = pal[len(pal)-1]
				switch {
				case r < 6:
					c = pal[2]
				case r < 10+14*petal:
					c = pal[0]
				case r < 12+14*petal:
					c = pal[1]
				}
			default:
				dx, dy := x%40-20, y%40-20
				if dx < 0 {
					dx = -dx
				}
				if dy < 0 {
					dy = -dy
				}
				c = pal[len(pal)-1]
				if dx+dy < 14 {
					c = pal[(x/40+y/40)%(len(pal)-1)]
				}
				if dx+dy == 14 || dx+dy == 15 {
					c = pal[1]
				}
			}
			// A little grain, as cloth and clay have.
			g := uint8((x*7 + y*13) % 9)
			img.SetRGBA(x, y, color.RGBA{sat(c.R, g), sat(c.G, g), sat(c.B, g), 255})
		}
	}
	return img
}

func sat(v, g uint8) uint8 {
	if int(v)+int(g) > 255 {
		return 255
	}
	return v + g
}
