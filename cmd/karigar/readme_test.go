package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/karigar/karigar/models/modelstest"
)

// quickStart is the README's quick start: the sh block after its marker.
var quickStart = regexp.MustCompile("(?s)<!-- quickstart:[^>]*-->\n```sh\n(.*?)```")

// TestReadmeQuickStart runs the README's quick start as it stands, with
// curl and jq, against a server seeded with the demo data: a buyer's order
// goes through to a payout and the ledger verifies.
func TestReadmeQuickStart(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the quick start needs %s", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := quickStart.FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no quick start block")
	}
	script := string(m[1])
	commands := 0
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		if !strings.HasPrefix(line, " ") { // continuation lines are indented
			commands += strings.Count(line, "; ") + 1
		}
	}
	if commands >= 20 {
		t.Fatalf("the quick start has %d commands, want under 20", commands)
	}
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			env := envOf(map[string]string{"KARIGAR_ADDR": "127.0.0.1:0", "KARIGAR_DATABASE_URL": modelstest.URL(t, engine),
				"KARIGAR_JWT_SECRET": strings.Repeat("k", 40)})
			var out, errOut bytes.Buffer
			if code := run(t.Context(), []string{"seed", "--demo"}, env, &out, &errOut); code != 0 {
				t.Fatalf("seed --demo: %d %s %s", code, out.String(), errOut.String())
			}
			base, cancel, done, _ := startServe(t, env)
			defer cancel()
			cmd := exec.CommandContext(t.Context(), "sh", "-e", "-c", script)
			cmd.Env = append(os.Environ(), "KARIGAR_URL="+base)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("quick start: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			got := stdout.String()
			if !regexp.MustCompile(`^shipped\ndelivered\n\{"id":"[0-9a-f-]{36}","amount":\{"amount":10000,"currency":"PKR"\}\}\ntrue\n$`).MatchString(got) {
				t.Fatalf("quick start printed:\n%s\nstderr:\n%s", got, stderr.String())
			}
			cancel()
			select {
			case <-done:
			case <-time.After(25 * time.Second):
				t.Fatal("serve did not shut down")
			}
		})
	}
}
