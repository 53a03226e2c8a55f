package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Storage keeps the stored objects: the sizes of every photo. A key is a
// slash-separated path such as "products/{id}/{image}-thumb-{hash}.jpg"; an
// object is written once under a new key and never changed, so whatever
// serves it may let it be cached for good. Implementations: Local (a
// folder) and S3 (S3-compatible object storage).
type Storage interface {
	// Put stores data under key with its content type.
	Put(ctx context.Context, key string, data []byte, contentType string) error
	// Open returns an object's content; ErrNotExist when there is none. The
	// caller closes it.
	Open(ctx context.Context, key string) (*Object, error)
	// Delete removes an object; a key with no object is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, in lexical order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Check writes, reads and deletes a small object, to tell at start
	// whether the storage can be used.
	Check(ctx context.Context) error
	// String describes the storage for logs (no credentials).
	String() string
}

// Object is a stored object being read.
type Object struct {
	io.ReadCloser
	Size        int64
	ContentType string
	ModTime     time.Time
}

// ErrNotExist is what Open returns for a key with no object.
var ErrNotExist = errors.New("media: no such object")

// Open returns the storage a KARIGAR_STORAGE_URL names:
//
//	file:///var/lib/karigar/media   a folder (absolute path)
//	file:karigar-media              a folder relative to the working directory
//	s3://bucket?endpoint=https://host&region=r[&path_style=true][&prefix=p][&public_url=https://cdn]
//
// The S3 credentials come from getenv, by the AWS names
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, optionally,
// AWS_SESSION_TOKEN), never from the URL, which is logged. Without an
// endpoint the bucket is AWS S3's in region (virtual-hosted style).
// public_url, when set, is where clients fetch the objects directly (a CDN
// or a public bucket); otherwise the binary serves them at /media/.
func Open(raw string, getenv func(string) string) (Storage, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("not a URL: %v", err)
	}
	switch u.Scheme {
	case "file":
		path := u.Path
		if u.Opaque != "" {
			path = u.Opaque
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, "", fmt.Errorf("file URLs name a folder on this machine: file:///absolute/path or file:relative/path, not host %q", u.Host)
		}
		if path == "" {
			return nil, "", errors.New("file URL names no folder: file:///var/lib/karigar/media or file:relative/path")
		}
		l, err := NewLocal(filepath.FromSlash(path))
		return l, "", err
	case "s3":
		q := u.Query()
		for k := range q {
			switch k {
			case "endpoint", "region", "path_style", "prefix", "public_url":
			default:
				return nil, "", fmt.Errorf("unknown parameter %q: s3 URLs take endpoint, region, path_style, prefix and public_url (credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", k)
			}
		}
		opt := S3Options{Bucket: u.Host, Endpoint: q.Get("endpoint"), Region: q.Get("region"), Prefix: q.Get("prefix"),
			AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken: getenv("AWS_SESSION_TOKEN")}
		if ps := q.Get("path_style"); ps != "" {
			if opt.PathStyle, err = strconv.ParseBool(ps); err != nil {
				return nil, "", fmt.Errorf("path_style must be true or false, not %q", ps)
			}
		} else {
			// Self-hosted S3 servers are usually reached by address, with no
			// wildcard DNS for bucket.host: path style unless told otherwise.
			opt.PathStyle = opt.Endpoint != ""
		}
		public := strings.TrimRight(q.Get("public_url"), "/")
		if public != "" {
			if p, err := url.Parse(public); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
				return nil, "", fmt.Errorf("public_url must be an absolute http(s) URL, not %q", public)
			}
		}
		if opt.Prefix != "" && (!strings.HasSuffix(opt.Prefix, "/") || strings.HasPrefix(opt.Prefix, "/")) {
			return nil, "", fmt.Errorf("prefix must be a folder such as karigar/ (ending in /), not %q", opt.Prefix)
		}
		if public != "" && opt.Prefix != "" {
			public += "/" + strings.TrimSuffix(opt.Prefix, "/") // objects are at prefix+key in the bucket
		}
		s, err := NewS3(opt)
		return s, public, err
	}
	return nil, "", fmt.Errorf("must start with file: or s3://, not %q", u.Scheme)
}

// checkObject is what Check writes and reads back.
const checkKey, checkBody = ".karigar-check", "karigar storage check"

// check is Check for any Storage: put, read back, delete.
func check(ctx context.Context, s Storage) error {
	if err := s.Put(ctx, checkKey, []byte(checkBody), "text/plain"); err != nil {
		return err
	}
	o, err := s.Open(ctx, checkKey)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(o)
	o.Close()
	if err != nil {
		return err
	}
	if string(got) != checkBody {
		return fmt.Errorf("read back %q, wrote %q", got, checkBody)
	}
	return s.Delete(ctx, checkKey)
}

// ImmutableCacheControl is how an object may be cached: its key never
// names other bytes, so for a year, by anyone, without asking again.
const ImmutableCacheControl = "public, max-age=31536000, immutable"
