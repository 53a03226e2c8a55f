package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// pageCSP is the Content-Security-Policy of a server-rendered page: nothing
// but its one inline style (by hash) and images from imgSrc.
func pageCSP(page []byte, imgSrc string) (string, error) {
	style, err := inlineStyle(page)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(style)
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"img-src " + imgSrc + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'", nil
}

// inlineStyle returns the text of the page's one <style> element, which the
// policy allows by its hash.
func inlineStyle(page []byte) ([]byte, error) {
	_, rest, ok := bytes.Cut(page, []byte("<style>"))
	if !ok {
		return nil, errors.New("render page: no <style> element")
	}
	style, _, ok := bytes.Cut(rest, []byte("</style>"))
	if !ok {
		return nil, errors.New("render page: unterminated <style> element")
	}
	return style, nil
}
