package media

import (
	"bytes"
	"encoding/binary"
	"image"
)

// Orientation reads the EXIF orientation (1 to 8; 1 is upright) of a JPEG,
// PNG or WebP file from its EXIF block, without decoding anything else: a
// phone stores a photo as its sensor saw it and says in this tag how to
// turn it. A file without the tag, or with one that cannot be read, is 1.
// The tag is read so that stored sizes are upright; the block itself,
// with any GPS position in it, is never stored.
func Orientation(format string, data []byte) int {
	var tiff []byte
	switch format {
	case "jpeg":
		tiff = jpegEXIF(data)
	case "png":
		tiff = pngEXIF(data)
	case "webp":
		tiff = webpEXIF(data)
	}
	if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
		return o
	}
	return 1
}

// jpegEXIF is the TIFF structure of a JPEG's APP1 Exif segment.
func jpegEXIF(d []byte) []byte {
	for i := 2; i+4 <= len(d); {
		if d[i] != 0xFF {
			return nil
		}
		marker := d[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image: no more metadata
			return nil
		}
		n := int(binary.BigEndian.Uint16(d[i+2:]))
		if n < 2 || i+2+n > len(d) {
			return nil
		}
		seg := d[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngEXIF is the content of a PNG's eXIf chunk.
func pngEXIF(d []byte) []byte {
	for i := 8; i+8 <= len(d); {
		n := int(binary.BigEndian.Uint32(d[i:]))
		typ := string(d[i+4 : i+8])
		if n < 0 || i+12+n > len(d) || typ == "IDAT" {
			return nil
		}
		if typ == "eXIf" {
			return d[i+8 : i+8+n]
		}
		i += 12 + n
	}
	return nil
}

// webpEXIF is the content of a WebP's EXIF chunk.
func webpEXIF(d []byte) []byte {
	for i := 12; i+8 <= len(d); {
		typ := string(d[i : i+4])
		n := int(binary.LittleEndian.Uint32(d[i+4:]))
		if n < 0 || i+8+n > len(d) {
			return nil
		}
		if typ == "EXIF" {
			return bytes.TrimPrefix(d[i+8:i+8+n], []byte("Exif\x00\x00"))
		}
		i += 8 + n + n%2
	}
	return nil
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF structure, or 0.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	ifd := int(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return 0
	}
	entries := int(bo.Uint16(t[ifd:]))
	for e := range entries {
		p := ifd + 2 + 12*e
		if p+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[p:]) == 0x0112 && bo.Uint16(t[p+2:]) == 3 { // SHORT
			return int(bo.Uint16(t[p+8:]))
		}
	}
	return 0
}

// orientImage turns img upright as EXIF orientation o says: 2 to 4 flip or
// turn it half round, 5 to 8 also swap its width and height.
func orientImage(img *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			si, di := img.PixOffset(sx, sy), dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return dst
}
