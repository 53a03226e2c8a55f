package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/karigar/karigar/services"
)

// What an upload may be.
const (
	// MaxUploadBytes is the largest file accepted: a 12-megapixel phone
	// photo is 2 to 6 MB as a JPEG.
	MaxUploadBytes = 10 << 20
	// MaxPixels refuses decompression bombs: a small file that decodes to
	// an enormous image. It is checked from the file's header, before any
	// pixel is decoded; 50 megapixels admit every phone camera's full
	// resolution that fits in 10 MB.
	MaxPixels = 50_000_000
	// maxDecodedBytes bounds what one decoded image may take in memory:
	// images with more bytes per pixel (16-bit PNGs) get fewer pixels.
	maxDecodedBytes = 200 << 20
	// MinSide is the shortest side accepted, in pixels: a smaller picture
	// shows nothing a buyer can judge a craft by.
	MinSide = 100
)

// Size is one of the stored sizes of every photo.
type Size struct {
	Name    string // thumbnail, medium or large
	Short   string // in storage keys
	MaxSide int    // the longest side is at most this, in pixels; smaller photos are not enlarged
	Quality int    // JPEG quality to start from
	// MaxBytes, when not 0, is what the size should stay under: the
	// quality is lowered in steps (not below minQuality) until it does.
	MaxBytes int
}

// Sizes are what every photo is stored as, small to large: a thumbnail a
// buyer on 3G loads with the catalogue (under ~30 KB), a medium size for
// product pages on phones, a large one for wide screens and zooming.
var Sizes = []Size{
	{Name: "thumbnail", Short: "thumb", MaxSide: 320, Quality: 80, MaxBytes: 30_000},
	{Name: "medium", Short: "medium", MaxSide: 800, Quality: 80},
	{Name: "large", Short: "large", MaxSide: 1600, Quality: 82},
}

const minQuality = 40

// Rendition is one stored size of a photo: a JPEG made from decoded pixels,
// so it holds none of the original file's metadata.
type Rendition struct {
	Size          Size
	Data          []byte
	Width, Height int
}

// Processed is an upload turned into its stored sizes.
type Processed struct {
	Format        string // jpeg, png or webp: what the bytes were
	Width, Height int    // upright
	Renditions    []Rendition
}

// Format names what data is from its first bytes, whatever the file is
// called or the request says: jpeg, png, webp, heic, avif, gif, or "".
func Format(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif"
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		switch string(data[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "heic"
		case "avif", "avis":
			return "avif"
		}
	}
	return ""
}

func unsupported(format string, data []byte) error {
	msg := "file must be a JPEG, PNG or WebP image"
	switch format {
	case "heic":
		msg = "file is a HEIC photo, which is not accepted yet (no maintained pure-Go HEIC decoder exists): " +
			"upload it as JPEG. On an iPhone, Settings › Camera › Formats › Most Compatible takes JPEG photos, " +
			"and browsers and most apps convert HEIC to JPEG when they share or upload a photo"
	case "avif":
		msg = "file is an AVIF image, which is not accepted: upload a JPEG, PNG or WebP image"
	case "gif":
		msg = "file is a GIF, which is not accepted: upload a JPEG, PNG or WebP photo"
	default:
		if looksLikeText(data) {
			msg = "file is text, not an image (whatever its name says): upload a JPEG, PNG or WebP photo"
		} else {
			msg = "file is not a JPEG, PNG or WebP image (whatever its name says): upload a photo in one of those formats"
		}
	}
	return &services.Error{Code: services.CodeUnsupportedMedia, Message: msg}
}

func looksLikeText(data []byte) bool {
	n := min(len(data), 512)
	for _, b := range data[:n] {
		if b < 0x09 || (b > 0x0d && b < 0x20) {
			return false
		}
	}
	return n > 0
}

func invalidFile(format string, args ...any) error {
	return services.Invalid(map[string]string{"file": fmt.Sprintf(format, args...)})
}

// Check reads what data is and how big it would be decoded, from its
// header only: the type from the bytes, and the dimensions, refusing a
// file over MaxPixels before any pixel is decoded. Errors:
// unsupported_media_type, validation_failed (field "file").
func Check(data []byte) (format string, cfg image.Config, err error) {
	format = Format(data)
	var decodeConfig func(io.Reader) (image.Config, error)
	switch format {
	case "jpeg":
		decodeConfig = jpeg.DecodeConfig
	case "png":
		decodeConfig = png.DecodeConfig
	case "webp":
		decodeConfig = webp.DecodeConfig
	default:
		return format, cfg, unsupported(format, data)
	}
	cfg, err = decodeConfig(bytes.NewReader(data))
	if err != nil {
		return format, cfg, invalidFile("is not a readable %s image: its header is damaged or cut off", formatName(format))
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	limit := min(int64(MaxPixels), maxDecodedBytes/bytesPerPixel(cfg.ColorModel))
	switch {
	case pixels > limit:
		return format, cfg, invalidFile("is %d × %d pixels (%.1f megapixels): at most %d megapixels are accepted%s; make it smaller and upload it again",
			cfg.Width, cfg.Height, float64(pixels)/1e6, limit/1_000_000, deepNote(cfg.ColorModel))
	case cfg.Width < MinSide || cfg.Height < MinSide:
		return format, cfg, invalidFile("is %d × %d pixels: each side must be at least %d pixels", cfg.Width, cfg.Height, MinSide)
	}
	return format, cfg, nil
}

func formatName(format string) string {
	switch format {
	case "jpeg":
		return "JPEG"
	case "png":
		return "PNG"
	case "webp":
		return "WebP"
	}
	return format
}

// bytesPerPixel is what a decoded pixel of model takes (an upper bound:
// 4:2:0 JPEGs take 1.5).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

func deepNote(m color.Model) string {
	if bytesPerPixel(m) == 8 {
		return " at 16 bits per channel"
	}
	return ""
}

// Process checks data (see Check), decodes it, turns it upright from its
// EXIF orientation, and encodes each of Sizes as a JPEG from the decoded
// pixels: nothing of the original file but its pixels is kept, so no
// EXIF, GPS, XMP, IPTC or ICC block reaches storage. Transparent parts are
// laid on white. Errors: unsupported_media_type, validation_failed.
func Process(data []byte) (Processed, error) {
	format, cfg, err := Check(data)
	if err != nil {
		return Processed{}, err
	}
	orient := Orientation(format, data)
	var src image.Image
	switch format {
	case "jpeg":
		src, err = jpeg.Decode(bytes.NewReader(data))
	case "png":
		src, err = png.Decode(bytes.NewReader(data))
	case "webp":
		src, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		detail := err.Error()
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			detail = "it ends too early"
		}
		return Processed{}, invalidFile("is a damaged or incomplete %s image (cut off while copying or uploading?): %s",
			formatName(format), detail)
	}
	if b := src.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return Processed{}, invalidFile("is not a readable %s image: its pixels do not match its header", formatName(format))
	}
	w, h := cfg.Width, cfg.Height
	if orient >= 5 {
		w, h = h, w
	}
	out := Processed{Format: format, Width: w, Height: h}
	// Each size is scaled from the next larger one (the large from the
	// original), so the full-size image is read once; then the decoded
	// original can go.
	prev := src
	rends := make([]Rendition, len(Sizes))
	for i := len(Sizes) - 1; i >= 0; i-- {
		size := Sizes[i]
		tw, th := fit(w, h, size.MaxSide)
		sw, sh := tw, th // in the stored (not yet upright) orientation
		if orient >= 5 {
			sw, sh = th, tw
		}
		scaled := scale(prev, sw, sh)
		prev, src = scaled, nil
		upright := orientImage(scaled, orient)
		enc, err := encode(upright, size)
		if err != nil {
			return Processed{}, err
		}
		rends[i] = Rendition{Size: size, Data: enc, Width: tw, Height: th}
	}
	out.Renditions = rends
	return out, nil
}

// fit is w × h scaled down so that its longer side is at most side, never
// enlarged, rounded to whole pixels (at least 1).
func fit(w, h, side int) (int, int) {
	long := max(w, h)
	if long <= side {
		return w, h
	}
	return max(1, (w*side+long/2)/long), max(1, (h*side+long/2)/long)
}

// scale returns src scaled to w × h as an opaque RGBA image, laying any
// transparency on white. While the picture is at least twice the target it
// is halved, with bilinear sampling, which at exactly half size averages
// each 2 × 2 block: a box filter, so fine detail (a woven pattern) does not
// alias, and fast. The last step, under 2×, uses Catmull-Rom where its
// working buffer (target width × source height × 32 bytes: 153 MB for a
// 12-megapixel photo straight to 1600 pixels) is small, and bilinear
// sampling otherwise; so memory stays near the decoded photo's own size.
func scale(src image.Image, w, h int) *image.RGBA {
	for {
		b := src.Bounds()
		if b.Dx() < 2*w || b.Dy() < 2*h {
			break
		}
		src = resample(src, b.Dx()/2, b.Dy()/2, draw.ApproxBiLinear)
	}
	b := src.Bounds()
	if b.Dx() == w && b.Dy() == h {
		if img, ok := src.(*image.RGBA); ok && b.Min == (image.Point{}) {
			return img
		}
	}
	var interp draw.Interpolator = draw.ApproxBiLinear
	if int64(w)*int64(b.Dy())*32 <= catmullRomBuffer {
		interp = draw.CatmullRom
	}
	return resample(src, w, h, interp)
}

// catmullRomBuffer is the largest working buffer scale lets Catmull-Rom take.
const catmullRomBuffer = 16 << 20

// resample draws src into a new w × h RGBA image with interp.
func resample(src image.Image, w, h int, interp draw.Interpolator) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	op := draw.Src
	if o, ok := src.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
		op = draw.Over
	}
	if src.Bounds().Dx() == w && src.Bounds().Dy() == h {
		draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, op)
		return dst
	}
	interp.Scale(dst, dst.Bounds(), src, src.Bounds(), op, nil)
	return dst
}

// encode writes img as a JPEG at size's quality, lowering it in steps
// while the result is over size.MaxBytes.
func encode(img image.Image, size Size) ([]byte, error) {
	var buf bytes.Buffer
	for q := size.Quality; ; q -= 8 {
		buf.Reset()
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("media: encode %s: %w", size.Name, err)
		}
		if size.MaxBytes == 0 || buf.Len() <= size.MaxBytes || q-8 < minQuality {
			return bytes.Clone(buf.Bytes()), nil
		}
	}
}
