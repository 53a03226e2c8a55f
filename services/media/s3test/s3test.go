// Package s3test runs a real S3-compatible server for tests: versitygw
// (Apache-2.0, which checks SigV4 signatures like AWS) with its posix
// backend in a temporary folder, one process per test binary, shared by
// every test in it; each Start gets a bucket of its own.
//
// versitygw is not a Go module dependency of Karigar: .ci/run installs it
// (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0, about three
// minutes to build on two cores) into a cache folder kept between runs and
// names it in KARIGAR_VERSITYGW. Without it, Start skips the test, or fails
// it when CI is set. Where Start looks, in order: $KARIGAR_VERSITYGW,
// versitygw on PATH, and the cache folder .ci/run uses
// ($XDG_CACHE_HOME or ~/.cache)/karigar-ci/versitygw-v1.8.0/versitygw.
//
// A package whose tests call Start hands its TestMain to Main, which stops
// the server after the tests:
//
//	func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }
//
// or, around another such helper,
//
//	func TestMain(m *testing.M) { os.Exit(s3test.Around(func() int { return stripemock.Main(m) })) }
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/karigar/karigar/services/media"
)

// Version is the versitygw release .ci/run installs.
const Version = "v1.8.0"

// EnvBinary names the versitygw executable.
const EnvBinary = "KARIGAR_VERSITYGW"

// The root account of the test server.
const (
	AccessKey = "karigartestaccess"
	SecretKey = "karigar-test-secret-key-0123456789"
	Region    = "us-east-1"
)

var (
	mu          sync.Mutex
	mainRunning bool
	server      *process
	once        sync.Once
	startErr    error
	buckets     atomic.Int64
)

var errUnavailable = errors.New("versitygw is unavailable")

// Main runs the package's tests and then stops the server Start started.
func Main(m *testing.M) int { return Around(m.Run) }

// Around runs run (a TestMain's run of the tests, which may be wrapped by
// another helper's Main) and then stops the server Start started.
func Around(run func() int) int {
	mu.Lock()
	mainRunning = true
	mu.Unlock()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		mainRunning = false
		if server != nil {
			server.stop()
			server = nil
		}
	}()
	return run()
}

// Start returns the options of a new, empty bucket on the test binary's
// versitygw, starting it on the first call.
func Start(tb testing.TB) media.S3Options {
	tb.Helper()
	mu.Lock()
	underMain := mainRunning
	mu.Unlock()
	if !underMain {
		tb.Fatal("s3test: Start needs the package's TestMain to run the tests through s3test.Main")
	}
	once.Do(func() {
		p, err := startProcess()
		mu.Lock()
		server, startErr = p, err
		mu.Unlock()
	})
	if startErr != nil {
		if errors.Is(startErr, errUnavailable) && os.Getenv("CI") == "" {
			tb.Skipf("s3test: %v (CI=true makes this a failure)", startErr)
		}
		tb.Fatalf("s3test: %v", startErr)
	}
	opt := media.S3Options{Bucket: fmt.Sprintf("karigar-test-%d-%d", os.Getpid(), buckets.Add(1)), Endpoint: server.url,
		Region: Region, PathStyle: true, AccessKeyID: AccessKey, SecretAccessKey: SecretKey}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client(opt).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &opt.Bucket}); err != nil {
		tb.Fatalf("s3test: create bucket %s: %v", opt.Bucket, err)
	}
	return opt
}

// URL is the KARIGAR_STORAGE_URL of opt's bucket (credentials apart).
func URL(opt media.S3Options) string {
	return "s3://" + opt.Bucket + "?endpoint=" + opt.Endpoint + "&region=" + opt.Region
}

func client(opt media.S3Options) *s3.Client {
	return s3.New(s3.Options{Region: opt.Region, BaseEndpoint: aws.String(opt.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(opt.AccessKeyID, opt.SecretAccessKey, "")})
}

// Binary is the versitygw executable Start runs, or "" when there is none.
func Binary() string {
	if b := os.Getenv(EnvBinary); b != "" {
		return b
	}
	if b, err := exec.LookPath("versitygw"); err == nil {
		return b
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache")
	}
	b := filepath.Join(cache, "karigar-ci", "versitygw-"+Version, "versitygw")
	if _, err := os.Stat(b); err != nil {
		return ""
	}
	return b
}

type process struct {
	url    string
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	output *strings.Builder
	outMu  sync.Mutex
}

func startProcess() (*process, error) {
	bin := Binary()
	if bin == "" {
		return nil, fmt.Errorf("%w: set %s, put versitygw on PATH, or run go install github.com/versity/versitygw/cmd/versitygw@%s",
			errUnavailable, EnvBinary, Version)
	}
	var lastErr error
	for range 3 { // a port picked free may be taken before versitygw binds it
		p, err := tryStart(bin)
		if err == nil {
			return p, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStart(bin string) (*process, error) {
	dir, err := os.MkdirTemp("", "karigar-versitygw-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &process{url: "http://" + addr, dir: dir, exited: make(chan struct{}), output: &strings.Builder{}}
	p.cmd = exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region, "--port", addr, "--quiet", "posix", dir)
	w := writerFunc(func(b []byte) (int, error) {
		p.outMu.Lock()
		defer p.outMu.Unlock()
		if p.output.Len() < 4096 {
			p.output.Write(b)
		}
		return len(b), nil
	})
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.SysProcAttr = &syscall.SysProcAttr{}
	setParentDeathSignal(p.cmd.SysProcAttr)
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the parent-death signal follows the thread that started the child
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w: run %s: %v", errUnavailable, bin, err)
	}
	if err := p.waitReady(); err != nil {
		p.stop()
		p.outMu.Lock()
		defer p.outMu.Unlock()
		return nil, fmt.Errorf("versitygw: %v; its output:\n%s", err, p.output.String())
	}
	return p, nil
}

// waitReady waits until the server answers a signed ListBuckets.
func (p *process) waitReady() error {
	c := client(media.S3Options{Endpoint: p.url, Region: Region, AccessKeyID: AccessKey, SecretAccessKey: SecretKey})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return errors.New("it exited before answering")
		case <-time.After(100 * time.Millisecond):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return nil
		}
	}
	return errors.New("it did not answer within 30s")
}

func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
	os.RemoveAll(p.dir)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// setParentDeathSignal asks Linux to kill the server if the test binary
// dies without running Main's cleanup (see stripemock).
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig")
	if f.IsValid() && f.CanSet() && f.Type() == reflect.TypeOf(syscall.SIGKILL) {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
}
