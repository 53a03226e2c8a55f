package media_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/media/s3test"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// eachStorage runs fn on a new, empty storage of each kind: a folder, and
// a bucket of a real versitygw server.
func eachStorage(t *testing.T, fn func(t *testing.T, s media.Storage)) {
	t.Run("local", func(t *testing.T) {
		s, err := media.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("s3", func(t *testing.T) {
		s, err := media.NewS3(s3test.Start(t))
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("s3 under a prefix", func(t *testing.T) {
		opt := s3test.Start(t)
		opt.Prefix = "karigar/"
		s, err := media.NewS3(opt)
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

func TestStoragePutOpenListDelete(t *testing.T) {
	eachStorage(t, func(t *testing.T, s media.Storage) {
		ctx := t.Context()
		data := bytes.Repeat([]byte("karigar"), 1000)
		keys := []string{"products/a/1-thumb.jpg", "products/a/1-large.jpg", "products/b/2-thumb.jpg"}
		for _, k := range keys {
			if err := s.Put(ctx, k, data, "image/jpeg"); err != nil {
				t.Fatalf("put %s: %v", k, err)
			}
		}
		o, err := s.Open(ctx, keys[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(o)
		o.Close()
		if err != nil || !bytes.Equal(got, data) || o.Size != int64(len(data)) || o.ContentType != "image/jpeg" {
			t.Fatalf("read %d bytes (size %d, type %q, %v), want %d of image/jpeg", len(got), o.Size, o.ContentType, err, len(data))
		}
		listed, err := s.List(ctx, "products/a/")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"products/a/1-large.jpg", "products/a/1-thumb.jpg"}; !slices.Equal(listed, want) {
			t.Fatalf("list products/a/: %v, want %v", listed, want)
		}
		if err := s.Delete(ctx, keys[0]); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, keys[0]); err != nil {
			t.Fatalf("deleting a deleted key: %v, want no error", err)
		}
		if _, err := s.Open(ctx, keys[0]); !errors.Is(err, media.ErrNotExist) {
			t.Fatalf("open deleted: %v, want ErrNotExist", err)
		}
		if _, err := s.Open(ctx, "products/none.jpg"); !errors.Is(err, media.ErrNotExist) {
			t.Fatalf("open missing: %v, want ErrNotExist", err)
		}
		if err := s.Check(ctx); err != nil {
			t.Fatalf("check: %v", err)
		}
	})
}

func TestLocalRefusesKeysOutsideItsFolder(t *testing.T) {
	root := t.TempDir()
	s, err := media.NewLocal(filepath.Join(root, "media"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"../escape.jpg", "/etc/passwd", "a/../../b.jpg", "a//b.jpg", ""} {
		if err := s.Put(t.Context(), k, []byte("x"), "image/jpeg"); err == nil {
			t.Errorf("put %q: no error", k)
		}
		if _, err := s.Open(t.Context(), k); !errors.Is(err, media.ErrNotExist) {
			t.Errorf("open %q: %v, want ErrNotExist", k, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "escape.jpg")); err == nil {
		t.Fatal("a key wrote outside the folder")
	}
}

func TestS3RefusesWrongCredentials(t *testing.T) {
	opt := s3test.Start(t)
	opt.SecretAccessKey = "not-the-secret-not-the-secret-0000"
	s, err := media.NewS3(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "products/x.jpg", []byte("x"), "image/jpeg"); err == nil {
		t.Fatal("a put signed with the wrong secret was accepted: the server is not checking SigV4")
	}
}

func TestOpenStorageURL(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		url, want, public string
	}{
		{"file:///var/lib/karigar/media", "folder /var/lib/karigar/media", ""},
		{"s3://photos?endpoint=http://127.0.0.1:7070&region=auto", "s3 bucket photos at http://127.0.0.1:7070", ""},
		{"s3://photos?region=ap-south-1&public_url=https://cdn.example.pk/", "s3 bucket photos", "https://cdn.example.pk"},
		{"s3://photos?region=ap-south-1&prefix=karigar/&public_url=https://cdn.example.pk", "s3 bucket photos", "https://cdn.example.pk/karigar"},
	} {
		s, public, err := media.Open(tc.url, getenv)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if s.String() != tc.want || public != tc.public {
			t.Errorf("%s: %q, public %q; want %q, %q", tc.url, s.String(), public, tc.want, tc.public)
		}
	}
	if s, _, err := media.Open("file:karigar-media", getenv); err != nil || !filepath.IsAbs(s.(*media.Local).String()[len("folder "):]) {
		t.Errorf("file:karigar-media: %v %v", s, err)
	}
	for _, bad := range []string{"ftp://x", "s3://?region=x", "s3://b?secret=x", "file://host/path", "s3://b?public_url=cdn",
		"s3://b?path_style=maybe", "s3://b?prefix=karigar"} {
		if _, _, err := media.Open(bad, getenv); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if _, _, err := media.Open("s3://b", func(string) string { return "" }); err == nil {
		t.Error("s3 without credentials: accepted")
	}
}
