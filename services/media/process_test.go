package media_test

import (
	"bytes"
	"image/color"
	"image/jpeg"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/media/mediatest"
)

// wantClean fails unless data is a JPEG with no metadata: only the
// segments Go's encoder writes (tables, frame, Huffman tables, scan), and
// none of the byte strings the original's blocks held.
func wantClean(t *testing.T, name string, data []byte) {
	t.Helper()
	for _, m := range mediatest.Markers(data) {
		switch m {
		case 0xD8, 0xDB, 0xC0, 0xC4, 0xDA:
		default:
			t.Errorf("%s: has a segment with marker 0xFF%02X (application data or a comment)", name, m)
		}
	}
	for what, leak := range mediatest.Leaks() {
		if bytes.Contains(data, leak) {
			t.Errorf("%s: holds the %s of the original", name, what)
		}
	}
	if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("%s: not a JPEG: %v", name, err)
	}
}

func TestProcessStripsEveryMetadataBlock(t *testing.T) {
	webp, err := os.ReadFile("testdata/gps-exif.webp")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"jpeg": mediatest.WithMetadata(mediatest.JPEG(mediatest.Picture(1200, 900)), 1),
		// cwebp -metadata all from such a JPEG: EXIF with GPS, XMP, ICC.
		"webp": webp,
	} {
		t.Run(name, func(t *testing.T) {
			for what, leak := range mediatest.Leaks() {
				if what != "JFIF thumbnail" && what != "IPTC block" && what != "IPTC address" && !bytes.Contains(data, leak) && name == "jpeg" {
					t.Fatalf("the upload lacks its %s: the test would prove nothing", what)
				}
			}
			p, err := media.Process(data)
			if err != nil {
				t.Fatal(err)
			}
			if p.Format != name || len(p.Renditions) != 3 {
				t.Fatalf("format %s with %d sizes", p.Format, len(p.Renditions))
			}
			for _, r := range p.Renditions {
				wantClean(t, r.Size.Name, r.Data)
			}
		})
	}
}

func TestProcessMakesThreeSizes(t *testing.T) {
	// A 12-megapixel phone photo; under -short (CI's race run, after the
	// full size has run) 2000 × 1500, still larger than the large size.
	w, h := 4000, 3000
	if testing.Short() {
		w, h = 2000, 1500
	}
	p, err := media.Process(mediatest.JPEG(mediatest.Picture(w, h)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"thumbnail": {320, 240}, "medium": {800, 600}, "large": {1600, 1200}}
	for _, r := range p.Renditions {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatal(err)
		}
		if w := want[r.Size.Name]; cfg.Width != w[0] || cfg.Height != w[1] || r.Width != w[0] || r.Height != w[1] {
			t.Errorf("%s: %d × %d (recorded %d × %d), want %v", r.Size.Name, cfg.Width, cfg.Height, r.Width, r.Height, w)
		}
		if r.Size.Name == "thumbnail" && len(r.Data) > 30_000 {
			t.Errorf("thumbnail is %d bytes, want under 30 KB for buyers on 3G", len(r.Data))
		}
	}
	// A small photo is not enlarged.
	p, err = media.Process(mediatest.PNG(mediatest.Picture(500, 200)))
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Renditions[2]; l.Width != 500 || l.Height != 200 || p.Renditions[0].Width != 320 || p.Renditions[0].Height != 128 {
		t.Errorf("500 × 200: large %d × %d, thumbnail %d × %d", l.Width, l.Height, p.Renditions[0].Width, p.Renditions[0].Height)
	}
}

// TestProcessTurnsPhotosUpright: a phone's EXIF orientation 6 (turn 90°
// clockwise) puts the picture's red top-left corner at the top right.
func TestProcessTurnsPhotosUpright(t *testing.T) {
	webp, err := os.ReadFile("testdata/gps-exif.webp") // made from the same picture with orientation 6
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"jpeg": mediatest.WithMetadata(mediatest.JPEG(mediatest.Picture(400, 300)), 6),
		"webp": webp,
	} {
		t.Run(name, func(t *testing.T) {
			if o := media.Orientation(name, data); o != 6 {
				t.Fatalf("orientation %d, want 6", o)
			}
			p, err := media.Process(data)
			if err != nil {
				t.Fatal(err)
			}
			if p.Width != 300 || p.Height != 400 {
				t.Fatalf("upright size %d × %d, want 300 × 400", p.Width, p.Height)
			}
			img, err := jpeg.Decode(bytes.NewReader(p.Renditions[2].Data))
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if b.Dx() != 300 || b.Dy() != 400 {
				t.Fatalf("large is %v", b)
			}
			if c := img.At(b.Max.X-5, 5); !reddish(c) {
				t.Errorf("top right is %v, want the red corner", c)
			}
			if c := img.At(b.Max.X-5, b.Max.Y-5); !bluish(c) {
				t.Errorf("bottom right is %v, want the blue corner", c)
			}
		})
	}
}

func reddish(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 0xb000 && g < 0x5000 && b < 0x5000
}

func bluish(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return b > 0xb000 && g < 0x5000 && r < 0x5000
}

func TestProcessRefusesWhatIsNotAPhoto(t *testing.T) {
	photo := mediatest.JPEG(mediatest.Picture(640, 480))
	heic := append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 100)...)
	for _, tc := range []struct {
		name string
		data []byte
		code services.Code
		says string
	}{
		{"text renamed .jpg", []byte("Dear buyer, this is a letter, not a photo.\n"), services.CodeUnsupportedMedia, "is text"},
		{"truncated JPEG", photo[:len(photo)/2], services.CodeValidation, "damaged or incomplete JPEG"},
		{"header only", photo[:300], services.CodeValidation, "JPEG"},
		{"decompression bomb", mediatest.Bomb(), services.CodeValidation, "20000 × 20000"},
		{"tiny", mediatest.PNG(mediatest.Picture(40, 40)), services.CodeValidation, "at least 100"},
		{"HEIC", heic, services.CodeUnsupportedMedia, "HEIC"},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00"), services.CodeUnsupportedMedia, "GIF"},
		{"empty", nil, services.CodeUnsupportedMedia, "JPEG, PNG or WebP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := media.Process(tc.data)
			e, ok := services.AsError(err)
			if !ok || e.Code != tc.code || !strings.Contains(e.Error(), tc.says) {
				t.Fatalf("error %v, want %s saying %q", err, tc.code, tc.says)
			}
		})
	}
}

// TestBombIsRefusedBeforeDecoding: the 20,000 × 20,000 PNG would take 400
// MB decoded; it is refused from its header, having allocated almost
// nothing.
func TestBombIsRefusedBeforeDecoding(t *testing.T) {
	bomb := mediatest.Bomb()
	if len(bomb) > media.MaxUploadBytes {
		t.Fatalf("the bomb is %d bytes: it would be refused for its size, not its pixels", len(bomb))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := media.Process(bomb)
	runtime.ReadMemStats(&after)
	if !services.IsCode(err, services.CodeValidation) {
		t.Fatalf("error %v, want validation_failed", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("allocated %d bytes refusing it: it was decoded", alloc)
	}
}
