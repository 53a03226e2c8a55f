// Command loadgen is a small closed-loop HTTP load generator for benchmarking
// a locally running Karigar instance.
//
// Usage:
//
//	go run ./cmd/loadgen [flags] URL [URL ...]
//	go run ./cmd/loadgen -c 32 -d 20s -warmup 3s -name "filtered list" http://127.0.0.1:8080/api/items?status=open
//
// Each of the -c workers loops over one keep-alive connection, sending GET
// requests to the URLs in round-robin order (positional URLs plus those read
// from -urls FILE, one per line, blank lines and # comments skipped). Results
// from the -warmup period are discarded; requests are then measured for -d,
// or until -n measured requests have been sent. Response bodies are read
// fully and discarded; redirects are not followed.
//
// Loopback only: every URL must name a loopback host (127.0.0.0/8, ::1 or
// "localhost"), otherwise loadgen exits with status 2 before sending
// anything; each dialled address is checked again. -warmup plus -d may not
// exceed 10 minutes.
//
// Output is one human-readable line, or with -json one JSON object with the
// fields name, concurrency, duration_s, requests, errors, non_2xx, rps,
// p50_ms, p90_ms, p99_ms and max_ms (nearest-rank percentiles). The exit
// status is 1 if any measured request failed or returned a non-2xx status,
// or if nothing was measured.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const maxTotal = 10 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Result is the summary of one measured run.
type Result struct {
	Name        string  `json:"name"`
	Concurrency int     `json:"concurrency"`
	DurationS   float64 `json:"duration_s"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Non2xx      int     `json:"non_2xx"`
	RPS         float64 `json:"rps"`
	P50Ms       float64 `json:"p50_ms"`
	P90Ms       float64 `json:"p90_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := fs.Int("c", 8, "concurrent workers (one keep-alive connection each)")
	d := fs.Duration("d", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 2*time.Second, "warmup period whose results are discarded")
	n := fs.Int("n", 0, "cap on measured requests (0 = no cap)")
	timeout := fs.Duration("timeout", 5*time.Second, "per-request timeout")
	name := fs.String("name", "", "label for the output (default: first URL)")
	urlsFile := fs.String("urls", "", "file with URLs, one per line")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a text line")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "loadgen: "+format+"\n", a...)
		return 2
	}
	urls := fs.Args()
	if *urlsFile != "" {
		fromFile, err := readURLs(*urlsFile)
		if err != nil {
			return fail("%v", err)
		}
		urls = append(urls, fromFile...)
	}
	switch {
	case len(urls) == 0:
		return fail("no URLs given")
	case *c < 1 || *n < 0 || *timeout <= 0 || *d <= 0 || *warmup < 0:
		return fail("-c and -timeout and -d must be positive, -n and -warmup non-negative")
	case *warmup+*d > maxTotal:
		return fail("-warmup + -d must not exceed %v", maxTotal)
	}
	for _, u := range urls {
		if err := checkLoopback(u); err != nil {
			return fail("refusing %q: %v", u, err)
		}
	}
	if *name == "" {
		*name = urls[0]
	}

	dialer := &net.Dialer{Timeout: *timeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, _ := net.SplitHostPort(address)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("refusing to dial non-loopback address %s", address)
		}
		return nil
	}}
	client := &http.Client{
		Timeout: *timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        *c * len(urls),
			MaxIdleConnsPerHost: *c,
			MaxConnsPerHost:     *c,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()

	start := time.Now()
	measureStart := start.Add(*warmup)
	ctx, cancel := context.WithDeadline(ctx, measureStart.Add(*d))
	defer cancel()

	var next, claimed atomic.Int64
	var errCount, non2xx atomic.Int64
	perWorker := 1 << 14
	if *n > 0 {
		perWorker = min(perWorker, *n / *c + 1)
	}
	lats := make([][]time.Duration, *c)
	var wg sync.WaitGroup
	for w := range lats {
		lats[w] = make([]time.Duration, 0, perWorker)
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				measured := !t0.Before(measureStart)
				if measured && *n > 0 && claimed.Add(1) > int64(*n) {
					return
				}
				u := urls[(next.Add(1)-1)%int64(len(urls))]
				status, err := get(ctx, client, u)
				lat := time.Since(t0)
				if !measured || ctx.Err() != nil {
					continue // warmup, or cut off by the end of the run
				}
				lats[w] = append(lats[w], lat)
				if err != nil {
					errCount.Add(1)
				} else if status < 200 || status > 299 {
					non2xx.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := max(time.Since(measureStart), time.Nanosecond)

	all := slices.Concat(lats...)
	slices.Sort(all)
	ms := func(p float64) float64 { return float64(percentile(all, p)) / float64(time.Millisecond) }
	res := Result{
		Name: *name, Concurrency: *c, DurationS: elapsed.Seconds(),
		Requests: len(all), Errors: int(errCount.Load()), Non2xx: int(non2xx.Load()),
		RPS:   float64(len(all)) / elapsed.Seconds(),
		P50Ms: ms(50), P90Ms: ms(90), P99Ms: ms(99), MaxMs: ms(100),
	}
	if *asJSON {
		_ = json.NewEncoder(stdout).Encode(res)
	} else {
		fmt.Fprintf(stdout, "%s: c=%d %.1fs %d req (%d errors, %d non-2xx) %.1f req/s p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n",
			res.Name, res.Concurrency, res.DurationS, res.Requests, res.Errors, res.Non2xx, res.RPS, res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs)
	}
	if res.Requests == 0 || res.Errors > 0 || res.Non2xx > 0 {
		fmt.Fprintln(stderr, "loadgen: run had failed, non-2xx or no measured requests")
		return 1
	}
	return 0
}

// get sends one GET request and drains the body so the connection is reused.
func get(ctx context.Context, client *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// checkLoopback reports an error unless raw is an http(s) URL whose host is
// "localhost" or a loopback IP address.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("scheme must be http or https")
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("host is not a loopback address (only 127.0.0.0/8, ::1 and localhost are allowed)")
}

// readURLs reads one URL per line, skipping blank lines and # comments.
func readURLs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var urls []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			urls = append(urls, line)
		}
	}
	return urls, sc.Err()
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of an
// ascending slice, or 0 if it is empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
