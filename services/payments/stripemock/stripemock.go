// Package stripemock runs Stripe's official stripe-mock server for tests,
// one process per test binary, shared by every test in it.
//
// stripe-mock is pinned in go.mod as a tool dependency
// (go get -tool github.com/stripe/stripe-mock@VERSION) and built by
// `go tool`, so tests need nothing installed but Go. A package whose tests
// call Start hands its TestMain to Main, which stops the server after the
// tests:
//
//	func TestMain(m *testing.M) { os.Exit(stripemock.Main(m)) }
//
// A TestMain with its own setup wraps the call:
//
//	func TestMain(m *testing.M) {
//		// ... setup ...
//		code := stripemock.Main(m)
//		// ... teardown ...
//		os.Exit(code)
//	}
//
// Then any test, parallel or not, asks for the server:
//
//	p, err := payments.NewStripe(payments.StripeOptions{
//		SecretKey: stripemock.Key, WebhookSecret: "whsec_test", APIBase: stripemock.Start(t),
//	})
//
// stripe-mock validates requests against Stripe's OpenAPI spec and answers
// with fixtures: it keeps no state, so what a create sent is not what a
// later retrieve returns.
package stripemock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Key is a secret key stripe-mock accepts: it takes any "sk_test_X" whose
// X has no underscore.
const Key = "sk_test_karigar"

const (
	buildTimeout = 3 * time.Minute  // a first `go tool` run compiles stripe-mock: ~25 s on 2 cores
	readyTimeout = 30 * time.Second // from the process start to its first answer
	logLimit     = 4 << 10          // bytes of stripe-mock's output kept for error messages
)

// errUnavailable marks failures of the environment (no go command, the tool
// cannot be built): tests skip on them outside CI.
var errUnavailable = errors.New("stripe-mock is unavailable")

var (
	mu          sync.Mutex
	mainRunning bool         // Main is running the tests, so it will stop the server
	server      *mockProcess // nil until started
	once        sync.Once
	baseURL     string
	startErr    error
)

// Main runs the package's tests and then stops the stripe-mock that Start
// started, if any. It returns m.Run's exit code for os.Exit.
func Main(m *testing.M) int {
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
	return m.Run()
}

// Start returns the base URL (http://127.0.0.1:PORT) of the test binary's
// stripe-mock, starting it on the first call. The package's TestMain must
// run the tests through Main, or Start fails the test. When the go command
// is missing or the tool cannot be built, Start skips the test, or fails it
// when the CI environment variable is set; when stripe-mock starts but does
// not answer, it fails the test. A failed start is not retried.
func Start(tb testing.TB) string {
	tb.Helper()
	mu.Lock()
	underMain := mainRunning
	mu.Unlock()
	if !underMain {
		tb.Fatal("stripemock: Start needs the package's TestMain to run the tests through stripemock.Main: " +
			"func TestMain(m *testing.M) { os.Exit(stripemock.Main(m)) }")
	}
	once.Do(func() {
		p, err := startProcess()
		if err != nil {
			startErr = err
			return
		}
		mu.Lock()
		server = p
		mu.Unlock()
		baseURL = p.baseURL
	})
	if startErr != nil {
		if errors.Is(startErr, errUnavailable) && os.Getenv("CI") == "" {
			tb.Skipf("stripemock: %v (CI=true makes this a failure)", startErr)
		}
		tb.Fatalf("stripemock: %v", startErr)
	}
	return baseURL
}

// mockProcess is a running stripe-mock.
type mockProcess struct {
	baseURL string
	cmd     *exec.Cmd
	output  *boundedBuffer
	exited  chan struct{} // closed when the process has exited
}

// startProcess builds stripe-mock with `go tool -n`, which prints the cached
// executable's path, and runs that executable itself rather than
// `go tool stripe-mock`: the go command would stay between us and the
// server, and a go command killed by a dying test binary orphans it.
func startProcess() (*mockProcess, error) {
	bin, err := buildTool()
	if err != nil {
		return nil, err
	}
	p := &mockProcess{output: &boundedBuffer{limit: logLimit}, exited: make(chan struct{})}
	// Loopback only, ports chosen by the kernel: no race for a free port
	// between test binaries that `go test ./...` runs side by side. HTTPS
	// gets its own port too, or it would take the fixed default 12112.
	p.cmd = exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	p.cmd.Stdout = p.output
	p.cmd.Stderr = p.output
	p.cmd.SysProcAttr = &syscall.SysProcAttr{}
	setParentDeathSignal(p.cmd.SysProcAttr)

	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that started the
		// child ends; this goroutine keeps its thread until the child exits.
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = p.cmd.Wait() // its exit is reported through p.exited
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("%w: run %s: %v", errUnavailable, bin, err)
	}
	if err := p.waitReady(); err != nil {
		p.stop()
		return nil, fmt.Errorf("%v; its output:\n%s", err, p.output)
	}
	return p, nil
}

// buildTool runs `go tool -n stripe-mock` from the module root and returns
// the executable's path. Errors wrap errUnavailable.
func buildTool() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("%w: no go command on PATH", errUnavailable)
	}
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("%w: not inside a Go module (go env GOMOD: %q, %v)", errUnavailable, gomod, err)
	}
	root := filepath.Dir(gomod)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "tool", "-n", "stripe-mock")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: go tool -n stripe-mock in %s: %v: %s", errUnavailable, root, err, stderr.String())
	}
	bin := strings.TrimSpace(string(out))
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%w: go tool -n stripe-mock printed %q: %v", errUnavailable, bin, err)
	}
	return bin, nil
}

var listeningHTTP = regexp.MustCompile(`Listening for HTTP at address: (\S+)`)

// waitReady waits for stripe-mock to say where it listens and then to
// answer an authenticated request.
func (p *mockProcess) waitReady() error {
	deadline := time.After(readyTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	probe := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("stripe-mock exited before answering (%v)", p.cmd.ProcessState)
		case <-deadline:
			return fmt.Errorf("stripe-mock did not answer within %v", readyTimeout)
		case <-tick.C:
		}
		if p.baseURL == "" {
			m := listeningHTTP.FindStringSubmatch(p.output.String())
			if m == nil {
				continue
			}
			p.baseURL = "http://" + m[1]
		}
		req, err := http.NewRequest(http.MethodGet, p.baseURL+"/v1/balance", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+Key)
		res, err := probe.Do(req)
		if err != nil {
			continue
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("stripe-mock answered GET /v1/balance with %s", res.Status)
		}
		return nil
	}
}

// stop kills the process and waits for it to exit.
func (p *mockProcess) stop() {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// setParentDeathSignal asks Linux to kill the server if the test binary
// dies without running Main's cleanup (a test timeout panics and exits).
// The field exists only on Linux, hence reflection rather than a build tag;
// elsewhere Main's cleanup is the only one.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig")
	if f.IsValid() && f.CanSet() && f.Type() == reflect.TypeOf(syscall.SIGKILL) {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
}

// boundedBuffer keeps the first limit bytes written to it: stripe-mock's
// startup lines, not its log of every request.
type boundedBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
