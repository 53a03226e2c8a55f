// Package kanneltest runs a real Kannel for tests: bearerbox and smsbox
// with the configuration the project ships (deployments/kannel), and
// Kannel's own fakesmsc (Debian's kannel-extras) as the mobile network.
// A test sends through Kannel's sendsms URL, reads what the network was
// handed (Received, Wait), types a phone's reply into the network (Reply),
// and can stop Kannel and start it again (Stop, Start). Everything runs on
// free loopback ports in a temporary directory, and every process is
// killed when the test ends.
//
// Only tests import this package.
package kanneltest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Where Debian's kannel and kannel-extras put the programs.
const (
	Bearerbox = "/usr/sbin/bearerbox"
	Smsbox    = "/usr/sbin/smsbox"
	Fakesmsc  = "/usr/lib/kannel/test/fakesmsc"
)

// Installed reports whether the Kannel programs are there, and if not,
// which is missing.
func Installed() error {
	for _, p := range []string{Bearerbox, Smsbox, Fakesmsc} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing: apt-get install kannel kannel-extras", p)
		}
	}
	return nil
}

// Require skips t when Kannel is not installed, except under CI (CI set),
// where .ci/run installs it and its absence fails the test.
func Require(t testing.TB) {
	t.Helper()
	if err := Installed(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs Kannel for the SMS tests (.ci/run installs it): %v", err)
		}
		t.Skipf("Kannel is not installed (%v): the SMS gateway tests need it", err)
	}
}

// Options say where smsbox's sms-service sends messages from phones.
type Options struct {
	// InboundURL is Karigar's /api/v1/sms/inbound as smsbox reaches it,
	// without a query. Empty: a port nothing listens on.
	InboundURL string
	// InboundToken is sent as the token query field.
	InboundToken string
}

// The sendsms user of the rendered configuration.
const (
	User     = "karigar"
	Password = "kannel-test-password"
)

// Message is what the network was handed: parts of a concatenated message
// are put together, and UCS-2 is decoded.
type Message struct {
	From, To string
	Text     string
	Unicode  bool // it came as UCS-2
	Parts    int
}

// Kannel is a running Kannel and its fake network.
type Kannel struct {
	t       testing.TB
	dir     string
	conf    string
	ports   ports
	running bool

	bearerbox, smsbox *exec.Cmd
	fake              *fakeNetwork

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever received changes
	lines    int           // messages (parts) fakesmsc has printed, across restarts
	base     int           // lines before the current bearerbox started
	received []Message
	parts    map[string][][]byte // concatenated messages still missing parts
	unicode  map[string]bool
}

type ports struct{ Admin, Smsbox, Fake, Sendsms int }

// Start renders deployments/kannel/kannel.conf.tmpl into a temporary
// directory and starts Kannel with it; it is stopped when the test ends.
func Start(t testing.TB, opt Options) *Kannel {
	t.Helper()
	Require(t)
	k := &Kannel{t: t, dir: t.TempDir(), changed: make(chan struct{}), parts: map[string][][]byte{}, unicode: map[string]bool{}}
	ps := freePorts(t, 5)
	k.ports = ports{Admin: ps[0], Smsbox: ps[1], Fake: ps[2], Sendsms: ps[3]}
	if opt.InboundURL == "" {
		opt.InboundURL = fmt.Sprintf("http://127.0.0.1:%d/api/v1/sms/inbound", ps[4])
	}
	k.conf = filepath.Join(k.dir, "kannel.conf")
	if err := render(k.conf, map[string]any{"Dir": k.dir, "AdminPort": k.ports.Admin, "AdminPassword": "admin-" + strconv.Itoa(ps[0]),
		"SmsboxPort": k.ports.Smsbox, "FakePort": k.ports.Fake, "SendsmsPort": k.ports.Sendsms, "User": User, "Password": Password,
		"InboundURL": opt.InboundURL, "InboundToken": url.QueryEscape(opt.InboundToken)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			k.dumpLogs()
		}
		k.Stop()
	})
	k.Start()
	return k
}

// SendSMSURL is smsbox's sendsms interface, as KARIGAR_SMS_URL names it.
func (k *Kannel) SendSMSURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", k.ports.Sendsms)
}

// Dir is the directory of the configuration, logs and store.
func (k *Kannel) Dir() string { return k.dir }

// Start starts bearerbox, then (once it listens) fakesmsc and smsbox, and
// waits until the network and smsbox are connected. Kannel keeps its
// ports, so a sender keeps its URL across Stop and Start.
func (k *Kannel) Start() {
	k.t.Helper()
	if k.running {
		return
	}
	k.running = true
	k.mu.Lock()
	k.base = k.lines
	k.mu.Unlock()
	var err error
	if k.bearerbox, err = k.spawn("bearerbox", Bearerbox, "-v", "1", k.conf); err != nil {
		k.t.Fatal(err)
	}
	// smsbox connects to bearerbox once, and fakesmsc gives up when it
	// cannot connect: bearerbox must listen first.
	k.waitListening(k.ports.Smsbox, k.ports.Fake)
	if k.fake, err = k.startNetwork(); err != nil {
		k.t.Fatal(err)
	}
	if k.smsbox, err = k.spawn("smsbox", Smsbox, "-v", "1", k.conf); err != nil {
		k.t.Fatal(err)
	}
	k.waitListening(k.ports.Sendsms)
	k.waitReady()
}

// Stop stops Kannel and its network as an operator's SIGTERM does:
// bearerbox first, which smsbox and fakesmsc follow; whatever is still
// running after a few seconds is killed.
func (k *Kannel) Stop() {
	if !k.running {
		return
	}
	k.running = false
	if k.bearerbox != nil && k.bearerbox.Process != nil {
		_ = k.bearerbox.Process.Signal(syscall.SIGTERM)
	}
	stop(k.bearerbox)
	stop(k.smsbox)
	if f := k.fake; f != nil {
		stop(f.cmd)
		f.stdin.Close()
		<-f.done
	}
	k.bearerbox, k.smsbox, k.fake = nil, nil, nil
}

// stop waits a while for c to exit, then kills it (by its own pid).
func stop(c *exec.Cmd) {
	if c == nil || c.Process == nil {
		return
	}
	exited := make(chan struct{})
	go func() {
		_ = c.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(8 * time.Second):
		_ = c.Process.Kill()
		<-exited
	}
}

func (k *Kannel) spawn(name, path string, args ...string) (*exec.Cmd, error) {
	out, err := os.OpenFile(filepath.Join(k.dir, name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	c := exec.Command(path, args...)
	c.Dir = k.dir
	c.Stdout, c.Stderr = out, out
	// If the test process dies, so does Kannel.
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return c, nil
}

func (k *Kannel) waitListening(ports ...int) {
	k.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, p := range ports {
		for {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				k.dumpLogs()
				k.t.Fatalf("Kannel does not listen on port %d after 20 s", p)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// waitReady waits until bearerbox's status page shows smsbox connected and
// the fake network online.
func (k *Kannel) waitReady() {
	k.t.Helper()
	status := fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=admin-%d", k.ports.Admin, k.ports.Admin)
	online := regexp.MustCompile(`FAKE:` + strconv.Itoa(k.ports.Fake) + ` \(online`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(status)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if online.Match(body) && bytes.Contains(body, []byte("smsbox:")) && bytes.Contains(body, []byte("on-line")) {
				return
			}
		}
		if time.Now().After(deadline) {
			k.dumpLogs()
			k.t.Fatalf("Kannel is not ready after 20 s (smsbox connected and the fake network online)")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dumpLogs shows the end of Kannel's logs in the test's output.
func (k *Kannel) dumpLogs() {
	for _, name := range []string{"bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out", "fakesmsc.out"} {
		b, err := os.ReadFile(filepath.Join(k.dir, name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		k.t.Logf("--- %s (last %d lines)\n%s", name, min(len(lines), 25), strings.Join(lines[max(0, len(lines)-25):], "\n"))
	}
}

// Received is every message the network has been handed so far, in order,
// across restarts.
func (k *Kannel) Received() []Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.received)
}

// Wait waits until the network has been handed at least n messages, and
// returns them; it fails the test after timeout.
func (k *Kannel) Wait(n int, timeout time.Duration) []Message {
	k.t.Helper()
	deadline := time.After(timeout)
	for {
		k.mu.Lock()
		got, changed := slices.Clone(k.received), k.changed
		k.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline:
			k.dumpLogs()
			k.t.Fatalf("the network was handed %d messages in %s, want %d: %+v", len(got), timeout, n, got)
		}
	}
}

var smsStatus = regexp.MustCompile(`SMS: received \d+ \(\d+ queued\), sent (\d+) \((\d+) queued\)`)

// Settle waits until the network has read everything bearerbox has handed
// it (nudge has it read every 50 ms) and bearerbox has nothing
// queued, so that Received is all there will be; it fails the test after
// timeout.
func (k *Kannel) Settle(timeout time.Duration) {
	k.t.Helper()
	status := fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=admin-%d", k.ports.Admin, k.ports.Admin)
	deadline := time.Now().Add(timeout)
	for {
		res, err := http.Get(status)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if m := smsStatus.FindSubmatch(body); m != nil {
				sent, _ := strconv.Atoi(string(m[1]))
				k.mu.Lock()
				read := k.lines - k.base
				k.mu.Unlock()
				if string(m[2]) == "0" && read >= sent {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			k.dumpLogs()
			k.t.Fatalf("the network has not read all that Kannel sent after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Reply types text at the phone from and sends it to to (the short code
// or number Karigar's messages come from), as one line on fakesmsc's
// standard input: "text" when it is printable ASCII, else "ucs2" with the
// UTF-16 bytes URL-encoded, as a phone writing Urdu sends it. It returns
// once fakesmsc has handed it to bearerbox; Kannel then calls the
// sms-service.
func (k *Kannel) Reply(from, to, text string) {
	k.t.Helper()
	if err := k.fake.send(from, to, text); err != nil {
		k.dumpLogs()
		k.t.Fatal(err)
	}
}

// fakeNetwork is one run of fakesmsc.
type fakeNetwork struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // its output is read to the end

	sendMu  sync.Mutex
	writeMu sync.Mutex // a line is written whole, between nudge and send
	mu      sync.Mutex
	sent    int           // lines it has handed to bearerbox
	acked   chan struct{} // closed and replaced when sent changes
}

var (
	gotLine  = regexp.MustCompile(`Got message \d+: <(.*)>$`)
	sentLine = regexp.MustCompile(`fakesmsc: sent message (\d+)$`)
	payload  = regexp.MustCompile(`^(\S+) (\S+) (text|data|ucs-2|udh) ?(.*)$`)
)

// startNetwork starts fakesmsc in its interactive mode (no message on the
// command line), with no pause between the messages it is given.
func (k *Kannel) startNetwork() (*fakeNetwork, error) {
	log, err := os.OpenFile(filepath.Join(k.dir, "fakesmsc.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := exec.Command(Fakesmsc, "-H", "127.0.0.1", "-r", strconv.Itoa(k.ports.Fake), "-i", "0")
	c.Dir = k.dir
	c.Stdout, c.Stderr = pw, pw
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := c.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start fakesmsc: %w", err)
	}
	pw.Close()
	f := &fakeNetwork{cmd: c, stdin: stdin, done: make(chan struct{}), acked: make(chan struct{})}
	go f.nudge()
	go func() {
		defer close(f.done)
		defer log.Close()
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			if m := gotLine.FindStringSubmatch(line); m != nil {
				k.handed(m[1])
			} else if m := sentLine.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				f.mu.Lock()
				f.sent = n
				close(f.acked)
				f.acked = make(chan struct{})
				f.mu.Unlock()
			}
		}
	}()
	return f, nil
}

// nudge writes an empty line to fakesmsc every 50 ms until it exits.
// In its interactive mode fakesmsc waits up to a second for a line on its
// input before it reads what bearerbox has sent; an empty line sends
// nothing and ends that wait, so the network reads within 50 ms instead
// of at its own pace of once a second. It also brings in a line of a
// reply left in fakesmsc's stdio buffer behind another (see send).
func (f *fakeNetwork) nudge() {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-f.done:
			return
		case <-tick.C:
		}
		f.writeMu.Lock()
		_, err := io.WriteString(f.stdin, "\n")
		f.writeMu.Unlock()
		if err != nil {
			return
		}
	}
}

// send writes one line and waits until fakesmsc says it has sent it. One
// line at a time: fakesmsc reads its input with stdio and looks for more
// only when the descriptor is readable, so a second line buffered with the
// first would wait for a third.
func (f *fakeNetwork) send(from, to, text string) error {
	if strings.ContainsAny(from+to, " \r\n") || from == "" || to == "" {
		return fmt.Errorf("kanneltest: numbers must be non-empty and have no spaces: %q, %q", from, to)
	}
	if strings.ContainsAny(text, "\r\n") {
		return errors.New("kanneltest: fakesmsc reads one line per message: no line breaks in a reply")
	}
	line := from + " " + to + " text " + text
	if !printableASCII(text) {
		units := utf16.Encode([]rune(text))
		raw := make([]byte, 2*len(units))
		for i, u := range units {
			binary.BigEndian.PutUint16(raw[2*i:], u)
		}
		line = from + " " + to + " ucs2 " + url.QueryEscape(string(raw))
	}
	// fakesmsc reads lines into a buffer of 256 bytes.
	if len(line) > 254 {
		return fmt.Errorf("kanneltest: the line for fakesmsc is %d bytes, more than the 254 it reads at once: shorten the reply", len(line))
	}
	f.sendMu.Lock()
	defer f.sendMu.Unlock()
	f.mu.Lock()
	before, acked := f.sent, f.acked
	f.mu.Unlock()
	f.writeMu.Lock()
	_, err := io.WriteString(f.stdin, line+"\n")
	f.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("kanneltest: write to fakesmsc: %w", err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-acked:
		case <-deadline:
			return errors.New("kanneltest: fakesmsc did not send the reply within 10 s")
		}
		f.mu.Lock()
		sent := f.sent
		acked = f.acked
		f.mu.Unlock()
		if sent > before {
			return nil
		}
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// handed records a line fakesmsc printed for a message it was handed:
// "sender receiver text <text>", "... data <url-encoded 8-bit>", "...
// ucs-2 <url-encoded UCS-2>", or a part of a concatenated message "...
// udh <url-encoded UDH> data <url-encoded part>". A line that is none of
// these continues the text before it (a line break in a 7-bit text).
func (k *Kannel) handed(p string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	defer func() {
		close(k.changed)
		k.changed = make(chan struct{})
	}()
	k.lines++
	m := payload.FindStringSubmatch(p)
	if m == nil {
		if n := len(k.received); n > 0 && !k.received[n-1].Unicode {
			k.received[n-1].Text += "\n" + p
		} else {
			k.t.Logf("kanneltest: fakesmsc printed a message it could not parse: %q", p)
		}
		return
	}
	from, to, kind, rest := m[1], m[2], m[3], m[4]
	switch kind {
	case "text":
		k.received = append(k.received, Message{From: from, To: to, Text: rest, Parts: 1})
	case "data":
		raw, _ := url.QueryUnescape(rest)
		k.received = append(k.received, Message{From: from, To: to, Text: text8(raw), Parts: 1})
	case "ucs-2":
		raw, _ := url.QueryUnescape(rest)
		k.received = append(k.received, Message{From: from, To: to, Text: ucs2(raw), Unicode: true, Parts: 1})
	case "udh":
		fields := strings.Fields(rest)
		if len(fields) == 3 && fields[1] == "data" { // 1.4.5: "udh <udh> data <data>"
			fields = []string{fields[0], fields[2]}
		}
		if len(fields) != 2 {
			k.t.Logf("kanneltest: fakesmsc printed a part it could not parse: %q", p)
			return
		}
		udh, _ := url.QueryUnescape(fields[0])
		data, _ := url.QueryUnescape(fields[1])
		k.part(from, to, []byte(udh), []byte(data))
	}
}

// part keeps one part of a concatenated message and, once all are there,
// records the whole.
func (k *Kannel) part(from, to string, udh, data []byte) {
	ref, total, seq, ok := concatenation(udh)
	if !ok {
		k.received = append(k.received, Message{From: from, To: to, Text: decode(data), Unicode: looksUCS2(data), Parts: 1})
		return
	}
	key := fmt.Sprintf("%s|%s|%d|%d", from, to, ref, total)
	parts := k.parts[key]
	if parts == nil {
		parts = make([][]byte, total)
		k.parts[key] = parts
	}
	if seq >= 1 && seq <= total {
		parts[seq-1] = data
	}
	var whole []byte
	for _, p := range parts {
		if p == nil {
			return
		}
		whole = append(whole, p...)
	}
	delete(k.parts, key)
	k.received = append(k.received, Message{From: from, To: to, Text: decode(whole), Unicode: looksUCS2(whole), Parts: total})
}

// concatenation reads the concatenation element of a UDH (8-bit or 16-bit
// reference).
func concatenation(udh []byte) (ref, total, seq int, ok bool) {
	if len(udh) < 1 || int(udh[0]) != len(udh)-1 {
		return 0, 0, 0, false
	}
	for i := 1; i+1 < len(udh); {
		id, n := udh[i], int(udh[i+1])
		body := udh[i+2 : min(len(udh), i+2+n)]
		switch {
		case id == 0x00 && len(body) == 3:
			return int(body[0]), int(body[1]), int(body[2]), true
		case id == 0x08 && len(body) == 4:
			return int(body[0])<<8 | int(body[1]), int(body[2]), int(body[3]), true
		}
		i += 2 + n
	}
	return 0, 0, 0, false
}

// looksUCS2 tells UCS-2 from 7-bit text in a part, where fakesmsc does not
// say which it is: UCS-2 of Urdu or English has bytes below 9 (the 0x06
// of the Arabic block, the 0x00 of ASCII), which text never has.
func looksUCS2(b []byte) bool {
	if len(b)%2 != 0 {
		return false
	}
	for _, c := range b {
		if c < 0x09 {
			return true
		}
	}
	return false
}

func decode(b []byte) string {
	if looksUCS2(b) {
		return ucs2(string(b))
	}
	return text8(string(b))
}

// ucs2 decodes UTF-16BE (UCS-2 with surrogate pairs).
func ucs2(raw string) string {
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = binary.BigEndian.Uint16([]byte(raw[2*i : 2*i+2]))
	}
	return string(utf16.Decode(units))
}

// text8 is Kannel's 8-bit text: UTF-8 when it is valid, else Latin-1.
func text8(raw string) string {
	if utf8.ValidString(raw) {
		return raw
	}
	r := make([]rune, len(raw))
	for i := 0; i < len(raw); i++ {
		r[i] = rune(raw[i])
	}
	return string(r)
}

// render writes the shipped configuration template with values.
func render(path string, values map[string]any) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmpl, err := template.ParseFiles(filepath.Join(root, "deployments", "kannel", "kannel.conf.tmpl"))
	if err != nil {
		return err
	}
	tmpl.Option("missingkey=error")
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, values); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// repoRoot is the directory of go.mod above the working directory (a
// test's package directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kanneltest: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// freePorts finds n loopback ports nothing listens on just now.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var out []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// CheckConfig runs Kannel's own configuration checker (test_cfg, from
// kannel-extras) on path and returns its complaint, if any.
func CheckConfig(ctx context.Context, path string) error {
	out, err := exec.CommandContext(ctx, filepath.Join(filepath.Dir(Fakesmsc), "test_cfg"), path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("test_cfg: %v: %s", err, out)
	}
	if !bytes.Contains(out, []byte("cfg_read returned 0")) {
		var problems []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "ERROR") || strings.Contains(l, "WARNING") || strings.Contains(l, "PANIC") || strings.Contains(l, "cfg_read") {
				problems = append(problems, l)
			}
		}
		return fmt.Errorf("Kannel does not accept %s:\n%s", path, strings.Join(problems, "\n"))
	}
	return nil
}

// Render writes the test configuration to path with placeholder values,
// for CheckConfig.
func Render(path string) error {
	return render(path, map[string]any{"Dir": filepath.Dir(path), "AdminPort": 13000, "AdminPassword": "x", "SmsboxPort": 13001,
		"FakePort": 10000, "SendsmsPort": 13013, "User": User, "Password": Password,
		"InboundURL": "http://127.0.0.1:8080/api/v1/sms/inbound", "InboundToken": "token"})
}
