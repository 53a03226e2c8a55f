// Package mediatest makes the image files tests upload: pictures drawn
// here, JPEGs carrying the metadata blocks phones and editors write (EXIF
// with a GPS position, XMP, IPTC), and a PNG decompression bomb.
package mediatest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"sync"
)

// Picture is a w × h picture with detail everywhere (stripes, rings, a
// gradient and a little sensor-like noise), so that it compresses like a
// photograph rather than a flat colour. Its top-left corner is red and its top-right corner blue, so a
// test can tell which way up a stored size is.
func Picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cx, cy := float64(w)/2, float64(h)/2
	seed := uint32(1)
	noise := func() float64 { seed = seed*1664525 + 1013904223; return float64(seed>>24)/32 - 4 }
	for y := range h {
		for x := range w {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			r := uint8(120 + 100*math.Sin(d/7) + noise())
			g := uint8(float64(240*y/h) + 8 + noise())
			b := uint8(120 + 100*math.Sin(float64(x+2*y)/11) + noise())
			img.SetRGBA(x, y, color.RGBA{r, g, b, 255})
		}
	}
	corner := max(4, min(w, h)/8)
	for y := range corner {
		for x := range corner {
			img.SetRGBA(x, y, color.RGBA{230, 20, 20, 255})
			img.SetRGBA(w-1-x, y, color.RGBA{20, 20, 230, 255})
		}
	}
	return img
}

// JPEG encodes img at quality 90.
func JPEG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// PNG encodes img.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// The position the GPS block of WithMetadata records (a home in Lahore),
// and the strings each of the other blocks carries: a stored size that
// holds any of Leaks has kept metadata.
const (
	Latitude     = 31.520370
	Longitude    = 74.358749
	XMPMarker    = "http://ns.adobe.com/xap/1.0/"
	XMPSecret    = "exif:GPSLatitude>31,31.2222N<"
	IPTCMarker   = "Photoshop 3.0"
	IPTCSecret   = "Street 7, Shadman, Lahore"
	CameraSecret = "KarigarPhone 12 serial 0042"
)

// Leaks are byte strings that only the metadata blocks hold (long enough
// that a JPEG's tables and entropy-coded data cannot hold them by chance).
func Leaks() map[string][]byte {
	return map[string][]byte{
		"EXIF header":    []byte("Exif\x00\x00"),
		"GPS latitude":   rational(31, 1, binary.BigEndian), // degrees of the GPS IFD's latitude
		"camera serial":  []byte(CameraSecret),
		"XMP packet":     []byte(XMPMarker),
		"XMP GPS":        []byte(XMPSecret),
		"IPTC block":     []byte(IPTCMarker),
		"IPTC address":   []byte(IPTCSecret),
		"ICC profile":    []byte("ICC_PROFILE"),
		"JFIF thumbnail": []byte("JFXX"),
	}
}

// WithMetadata returns the JPEG j with the blocks a phone or an editor
// writes after its start: an EXIF block (orientation, the camera's serial
// number, and a GPS IFD holding Latitude and Longitude), an XMP packet with
// the position again, an IPTC block with an address, and an ICC profile
// header. orientation 0 leaves the tag out.
func WithMetadata(j []byte, orientation int) []byte {
	var out bytes.Buffer
	out.Write(j[:2]) // SOI
	segment(&out, 0xE1, append([]byte("Exif\x00\x00"), exifTIFF(orientation)...))
	segment(&out, 0xE1, []byte(XMPMarker+"\x00<x:xmpmeta><rdf:Description "+XMPSecret+"/></x:xmpmeta>"))
	iptc := []byte(IPTCMarker + "\x008BIM\x04\x04\x00\x00")
	record := append([]byte{0x1C, 0x02, 0x5C}, byte(0), byte(len(IPTCSecret)))
	record = append(record, IPTCSecret...)
	iptc = binary.BigEndian.AppendUint32(iptc, uint32(len(record)))
	segment(&out, 0xED, append(iptc, record...))
	segment(&out, 0xE2, append([]byte("ICC_PROFILE\x00\x01\x01"), make([]byte, 128)...))
	out.Write(j[2:])
	return out.Bytes()
}

func segment(out *bytes.Buffer, marker byte, payload []byte) {
	out.Write([]byte{0xFF, marker})
	_ = binary.Write(out, binary.BigEndian, uint16(len(payload)+2))
	out.Write(payload)
}

// exifTIFF is a big-endian TIFF structure: IFD0 with Orientation, Model
// and a pointer to the GPS IFD, which holds latitude and longitude with
// their references.
func exifTIFF(orientation int) []byte {
	bo := binary.BigEndian
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte // inline when 4 bytes or fewer
	}
	model := []byte(CameraSecret + "\x00")
	lat := append(append(rational(31, 1, bo), rational(31, 1, bo)...), rational(1333, 100, bo)...)
	lon := append(append(rational(74, 1, bo), rational(21, 1, bo)...), rational(3150, 100, bo)...)
	var ifd0 []entry
	if orientation > 0 {
		ifd0 = append(ifd0, entry{0x0112, 3, 1, []byte{0, byte(orientation), 0, 0}})
	}
	ifd0 = append(ifd0, entry{0x0110, 2, uint32(len(model)), model}, entry{0x8825, 4, 1, nil})
	gps := []entry{
		{0x0001, 2, 2, []byte("N\x00\x00\x00")}, {0x0002, 5, 3, lat},
		{0x0003, 2, 2, []byte("E\x00\x00\x00")}, {0x0004, 5, 3, lon},
	}
	size := func(es []entry) int { return 2 + 12*len(es) + 4 }
	// Layout: header (8), IFD0, GPS IFD, then the values that do not fit inline.
	ifd0At, gpsAt := 8, 8+size(ifd0)
	dataAt := gpsAt + size(gps)
	var data []byte
	write := func(buf []byte, es []entry, at int, next func(e entry) []byte) []byte {
		buf = bo.AppendUint16(buf, uint16(len(es)))
		for _, e := range es {
			buf = bo.AppendUint16(buf, e.tag)
			buf = bo.AppendUint16(buf, e.typ)
			buf = bo.AppendUint32(buf, e.count)
			buf = append(buf, next(e)...)
		}
		return bo.AppendUint32(buf, 0)
	}
	value := func(e entry) []byte {
		if e.tag == 0x8825 {
			return bo.AppendUint32(nil, uint32(gpsAt))
		}
		if len(e.value) <= 4 {
			return append(e.value, make([]byte, 4-len(e.value))...)
		}
		off := dataAt + len(data)
		data = append(data, e.value...)
		return bo.AppendUint32(nil, uint32(off))
	}
	t := []byte("MM\x00\x2a")
	t = bo.AppendUint32(t, uint32(ifd0At))
	t = write(t, ifd0, ifd0At, value)
	t = write(t, gps, gpsAt, value)
	return append(t, data...)
}

func rational(num, den uint32, bo binary.AppendByteOrder) []byte {
	return bo.AppendUint32(bo.AppendUint32(nil, num), den)
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// Bomb is a valid PNG of side × side grey pixels, all black: a few hundred
// kilobytes that would decode to side² bytes (400 MB for 20,000). Made
// once per size per test binary.
func Bomb() []byte {
	bombOnce.Do(func() { bomb = bombPNG(20000) })
	return bomb
}

func bombPNG(side int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		_ = binary.Write(&out, binary.BigEndian, c.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(side))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(side))
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit greyscale
	chunk("IHDR", ihdr)
	chunk("IDAT", zeros(side*(side+1))) // each row: filter byte 0, then black pixels
	chunk("IEND", nil)
	return out.Bytes()
}

// zeros is a zlib stream of n zero bytes, made without compressing them
// all (400 MB at the best level took minutes under the race detector):
// a run of zeros compressed on its own, by a fresh compressor and ended
// with a sync flush, refers to nothing before it, so copies of it one
// after the other are a valid stream of those runs. A final empty block
// and the Adler-32 of n zeros (a = 1, b = n mod 65521) close it.
func zeros(n int) []byte {
	run := 1 << 21
	for n%run != 0 {
		run--
	}
	var block bytes.Buffer
	fw, _ := flate.NewWriter(&block, flate.BestCompression)
	_, _ = fw.Write(make([]byte, run))
	_ = fw.Flush()
	out := []byte{0x78, 0xda} // zlib header: deflate, 32 KiB window, best compression
	for range n / run {
		out = append(out, block.Bytes()...)
	}
	out = append(out, 0x01, 0x00, 0x00, 0xff, 0xff) // final stored block of no bytes
	return binary.BigEndian.AppendUint32(out, uint32(n%65521)<<16|1)
}

// Markers lists the markers of a JPEG's segments up to its first scan
// (0xD8 start, 0xDB tables, 0xC0 frame, 0xC4 Huffman, 0xDA scan; 0xE0 to
// 0xEF are application blocks, where metadata lives, and 0xFE comments).
func Markers(j []byte) []byte {
	var out []byte
	if len(j) < 2 || j[0] != 0xFF || j[1] != 0xD8 {
		return nil
	}
	out = append(out, 0xD8)
	for i := 2; i+4 <= len(j); {
		if j[i] != 0xFF {
			return append(out, 0) // not a segment: a broken file
		}
		m := j[i+1]
		out = append(out, m)
		if m == 0xDA {
			return out
		}
		i += 2 + int(binary.BigEndian.Uint16(j[i+2:]))
	}
	return out
}
