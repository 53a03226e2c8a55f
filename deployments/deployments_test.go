// Package deployments_test checks the packaging files (Dockerfile, compose,
// Kubernetes manifests) offline. No Docker engine or cluster is needed, so
// these tests catch broken YAML and mismatched names/labels before anything
// is deployed, but they do not prove the files run.
package deployments_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// repoRoot walks up from the test's working directory to the directory
// holding go.mod, so the tests do not depend on where this package lives.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found in any parent directory")
		}
		dir = parent
	}
}

// decodeAll parses a multi-document YAML stream. Empty documents (e.g. a
// trailing "---") are dropped; a file with no documents at all is an error.
func decodeAll(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for i := 0; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil, errors.New("no YAML documents")
	}
	return docs, nil
}

// get follows a path of map keys, returning nil if any step is missing.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func getString(v any, keys ...string) string {
	s, _ := get(v, keys...).(string)
	return s
}

func getList(v any, keys ...string) []any {
	l, _ := get(v, keys...).([]any)
	return l
}

func getMap(v any, keys ...string) map[string]any {
	m, _ := get(v, keys...).(map[string]any)
	return m
}

func TestAllYAMLFilesParse(t *testing.T) {
	root := repoRoot(t)
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == ".git" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Guards against the walk silently matching nothing (e.g. wrong root).
	for _, want := range []string{"docker-compose.yml", "deployments/k8s/deployment.yaml"} {
		if !slices.Contains(files, filepath.Join(root, filepath.FromSlash(want))) {
			t.Errorf("walk did not find %s; found %v", want, files)
		}
	}
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		if _, err := decodeAll(path); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
}

// k8sManifests loads every YAML file in deployments/k8s, keyed by file name.
func k8sManifests(t *testing.T) (dir string, byFile map[string][]map[string]any) {
	t.Helper()
	dir = filepath.Join(repoRoot(t), "deployments", "k8s")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	byFile = map[string][]map[string]any{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if ext := filepath.Ext(e.Name()); ext != ".yaml" && ext != ".yml" {
			continue
		}
		docs, err := decodeAll(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		byFile[e.Name()] = docs
	}
	return dir, byFile
}

func isKustomization(name string) bool {
	return name == "kustomization.yaml" || name == "kustomization.yml"
}

// findKind returns the single document of the given kind across all manifests.
func findKind(t *testing.T, byFile map[string][]map[string]any, kind string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, docs := range byFile {
		for _, d := range docs {
			if getString(d, "kind") == kind {
				found = append(found, d)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s manifest, found %d", kind, len(found))
	}
	return found[0]
}

func TestK8sManifestsHaveIdentity(t *testing.T) {
	_, byFile := k8sManifests(t)
	if len(byFile) == 0 {
		t.Fatal("no manifests in deployments/k8s")
	}
	for name, docs := range byFile {
		// A Kustomization is kustomize input, not an API object.
		if isKustomization(name) {
			continue
		}
		for i, d := range docs {
			for _, key := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
				if getString(d, key...) == "" {
					t.Errorf("%s doc %d: missing %s", name, i, strings.Join(key, "."))
				}
			}
		}
	}
}

func TestK8sDeployment(t *testing.T) {
	_, byFile := k8sManifests(t)
	dep := findKind(t, byFile, "Deployment")
	pod := get(dep, "spec", "template", "spec")

	containers := getList(pod, "containers")
	if len(containers) == 0 {
		t.Fatal("Deployment has no containers")
	}
	for _, c := range containers {
		name := getString(c, "name")
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			if getMap(c, probe) == nil {
				t.Errorf("container %q: missing %s", name, probe)
			}
		}
		for _, kind := range []string{"requests", "limits"} {
			for _, res := range []string{"cpu", "memory"} {
				if get(c, "resources", kind, res) == nil {
					t.Errorf("container %q: missing resources.%s.%s", name, kind, res)
				}
			}
		}
		// The container-level setting wins over the pod-level one.
		nonRoot := get(pod, "securityContext", "runAsNonRoot")
		if v := get(c, "securityContext", "runAsNonRoot"); v != nil {
			nonRoot = v
		}
		if nonRoot != true {
			t.Errorf("container %q: runAsNonRoot is %v, want true", name, nonRoot)
		}
	}

	assertSelectsPods(t, "Deployment spec.selector.matchLabels", getMap(dep, "spec", "selector", "matchLabels"), dep)
}

// assertSelectsPods fails unless selector is non-empty and every label in it
// is on the Deployment's pod template.
func assertSelectsPods(t *testing.T, what string, selector map[string]any, dep map[string]any) {
	t.Helper()
	if len(selector) == 0 {
		t.Fatalf("%s is empty", what)
	}
	podLabels := getMap(dep, "spec", "template", "metadata", "labels")
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("%s %s=%v does not match pod label %v", what, k, v, podLabels[k])
		}
	}
}

func TestK8sHPATargetsDeployment(t *testing.T) {
	_, byFile := k8sManifests(t)
	dep := findKind(t, byFile, "Deployment")
	hpa := findKind(t, byFile, "HorizontalPodAutoscaler")
	if got := getString(hpa, "spec", "scaleTargetRef", "kind"); got != "Deployment" {
		t.Errorf("HPA scaleTargetRef.kind = %q, want Deployment", got)
	}
	if got, want := getString(hpa, "spec", "scaleTargetRef", "name"), getString(dep, "metadata", "name"); got != want {
		t.Errorf("HPA scaleTargetRef.name = %q, want Deployment name %q", got, want)
	}
}

func TestK8sServiceSelectsDeploymentPods(t *testing.T) {
	_, byFile := k8sManifests(t)
	dep := findKind(t, byFile, "Deployment")
	svc := findKind(t, byFile, "Service")
	assertSelectsPods(t, "Service spec.selector", getMap(svc, "spec", "selector"), dep)

	// A named targetPort must exist on a container, or the Service has no
	// endpoints even though the selector matches.
	for _, p := range getList(svc, "spec", "ports") {
		target, ok := get(p, "targetPort").(string)
		if !ok {
			continue
		}
		found := false
		for _, c := range getList(dep, "spec", "template", "spec", "containers") {
			for _, cp := range getList(c, "ports") {
				if getString(cp, "name") == target {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("Service targetPort %q is not a named container port", target)
		}
	}
}

func TestK8sPDBSelectsDeploymentPods(t *testing.T) {
	_, byFile := k8sManifests(t)
	dep := findKind(t, byFile, "Deployment")
	pdb := findKind(t, byFile, "PodDisruptionBudget")
	assertSelectsPods(t, "PodDisruptionBudget spec.selector.matchLabels", getMap(pdb, "spec", "selector", "matchLabels"), dep)
}

func TestK8sKustomizationListsManifests(t *testing.T) {
	dir, byFile := k8sManifests(t)
	var kust map[string]any
	for name, docs := range byFile {
		if isKustomization(name) {
			kust = docs[0]
		}
	}
	if kust == nil {
		t.Fatal("deployments/k8s has no kustomization.yaml")
	}
	var listed []string
	for _, r := range getList(kust, "resources") {
		s, _ := r.(string)
		listed = append(listed, s)
	}

	var want []string
	for name := range byFile {
		if isKustomization(name) || name == "secret.example.yaml" {
			continue
		}
		want = append(want, name)
	}
	for _, name := range want {
		if !slices.Contains(listed, name) {
			t.Errorf("kustomization.yaml does not list %s", name)
		}
	}
	for _, name := range listed {
		if name == "secret.example.yaml" {
			t.Error("kustomization.yaml must not list secret.example.yaml (placeholder values)")
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", name, err)
		}
	}
}

func loadCompose(t *testing.T) (root string, services map[string]any) {
	t.Helper()
	root = repoRoot(t)
	docs, err := decodeAll(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return root, getMap(docs[0], "services")
}

func TestDockerCompose(t *testing.T) {
	root, services := loadCompose(t)
	for _, name := range []string{"postgres", "karigar", "stripe-mock", "migrate"} {
		if getMap(services, name) == nil {
			t.Errorf("docker-compose.yml: missing service %q", name)
		}
	}
	dockerfile := getString(services, "karigar", "build", "dockerfile")
	if dockerfile != "deployments/Dockerfile" {
		t.Errorf("service karigar: build.dockerfile = %q, want deployments/Dockerfile", dockerfile)
	}
	buildCtx := getString(services, "karigar", "build", "context")
	if buildCtx == "" {
		buildCtx = "."
	}
	if _, err := os.Stat(filepath.Join(root, buildCtx, dockerfile)); err != nil {
		t.Errorf("service karigar: %v", err)
	}
}

// The image is built once, by `karigar`, and `migrate` runs the same tag:
// compose then neither builds it twice nor tries to pull it.
func TestDockerComposeBuildsOneImage(t *testing.T) {
	_, services := loadCompose(t)
	var builders []string
	for name, svc := range services {
		if get(svc, "build") != nil {
			builders = append(builders, name)
		}
	}
	slices.Sort(builders)
	if !slices.Equal(builders, []string{"karigar"}) {
		t.Errorf("services with build: %v, want only karigar", builders)
	}
	image := getString(services, "karigar", "image")
	if image == "" {
		t.Fatal("service karigar: no image name for the built image, so migrate cannot reuse it")
	}
	if got := getString(services, "migrate", "image"); got != image {
		t.Errorf("service migrate: image %q, want karigar's %q", got, image)
	}
	if got := getString(services, "migrate", "pull_policy"); got != "never" {
		t.Errorf("service migrate: pull_policy %q, want never (the image is local)", got)
	}
}

// Only the API's port is published: a PostgreSQL (or anything else) already
// listening on the developer's machine must not stop the stack.
func TestDockerComposePublishesOnlyTheAPI(t *testing.T) {
	_, services := loadCompose(t)
	for name, svc := range services {
		ports := getList(svc, "ports")
		if name != "karigar" {
			if len(ports) > 0 {
				t.Errorf("service %s publishes %v on the host; only karigar should", name, ports)
			}
			continue
		}
		if len(ports) != 1 {
			t.Errorf("service karigar publishes %v, want exactly the API port", ports)
			continue
		}
		p := fmt.Sprint(ports[0])
		if !strings.HasSuffix(p, ":8080") {
			t.Errorf("service karigar publishes %q, want HOST:8080", p)
		}
		if strings.Contains(p, "5432") {
			t.Errorf("service karigar publishes %q", p)
		}
	}
}

func TestDockerComposeHealthchecks(t *testing.T) {
	_, services := loadCompose(t)
	cmd := func(svc string) string {
		var parts []string
		for _, p := range getList(services, svc, "healthcheck", "test") {
			parts = append(parts, fmt.Sprint(p))
		}
		if len(parts) == 0 {
			t.Errorf("service %s: no healthcheck", svc)
		}
		return strings.Join(parts, " ")
	}
	if c := cmd("postgres"); !strings.Contains(c, "pg_isready") {
		t.Errorf("postgres healthcheck %q does not run pg_isready", c)
	}
	// Distroless has no shell: CMD-SHELL cannot run there, only the image's /probe.
	c := cmd("karigar")
	if !strings.HasPrefix(c, "CMD /probe ") || !strings.HasSuffix(c, "/readyz") {
		t.Errorf("karigar healthcheck %q, want [CMD, /probe, ..., http://127.0.0.1:8080/readyz]", c)
	}
	df, err := os.ReadFile(filepath.Join(repoRoot(t), "deployments", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "/probe") {
		t.Error("the Dockerfile does not put /probe in the image, so the karigar healthcheck cannot run")
	}

	// Nothing starts before what it needs is healthy or done.
	want := map[string]map[string]string{
		"migrate": {"postgres": "service_healthy"},
		"karigar": {"postgres": "service_healthy", "migrate": "service_completed_successfully"},
	}
	for svc, deps := range want {
		for dep, cond := range deps {
			if got := getString(services, svc, "depends_on", dep, "condition"); got != cond {
				t.Errorf("service %s: depends_on.%s.condition = %q, want %s", svc, dep, got, cond)
			}
		}
	}
}

// The secrets come from an env file that git ignores, described by a
// committed example naming each of them.
func TestDockerComposeSecretsFile(t *testing.T) {
	root, services := loadCompose(t)
	for _, svc := range []string{"karigar", "migrate"} {
		files := getList(services, svc, "env_file")
		if len(files) != 1 || getString(files[0], "path") != "karigar.env" {
			t.Errorf("service %s: env_file %v, want karigar.env", svc, files)
		}
		for _, key := range []string{"KARIGAR_JWT_SECRET", "KARIGAR_LEDGER_SIGNING_KEY", "KARIGAR_PII_KEY"} {
			if get(services, svc, "environment", key) != nil {
				t.Errorf("service %s: %s is in docker-compose.yml; it belongs in karigar.env", svc, key)
			}
		}
	}
	example, err := os.ReadFile(filepath.Join(root, "karigar.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"KARIGAR_JWT_SECRET=", "KARIGAR_LEDGER_SIGNING_KEY=", "KARIGAR_PII_KEY=", "KARIGAR_PUBLIC_URL="} {
		if !strings.Contains(string(example), key) {
			t.Errorf("karigar.env.example does not mention %s", key)
		}
	}
	for file, line := range map[string]string{".gitignore": "/karigar.env", ".dockerignore": "karigar.env"} {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Split(string(b), "\n"), line) {
			t.Errorf("%s does not list %s", file, line)
		}
	}
}

func TestDockerfile(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot(t), "deployments", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var froms int
	var user string // the last USER wins, as in Docker
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			froms++
		case "USER":
			user = fields[1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if froms < 2 {
		t.Errorf("Dockerfile has %d FROM lines, want a multi-stage build (>= 2)", froms)
	}
	uid, _, _ := strings.Cut(user, ":")
	switch uid {
	case "":
		t.Error("Dockerfile has no USER line; the image would run as root")
	case "root", "0":
		t.Errorf("Dockerfile USER is %q; want a non-root user", user)
	}
}

// On SIGTERM karigar fails /readyz and keeps serving for
// KARIGAR_SHUTDOWN_DRAIN, then takes up to 20 s to finish what is in
// flight. The drain must outlast the readiness probe's detection (period ×
// failure threshold), and the grace period the drain plus those 20 s, or
// the kubelet kills requests in flight.
func TestK8sShutdownDrainFitsTheProbesAndGracePeriod(t *testing.T) {
	_, byFile := k8sManifests(t)
	dep := findKind(t, byFile, "Deployment")
	cm := findKind(t, byFile, "ConfigMap")
	drain, err := time.ParseDuration(getString(cm, "data", "KARIGAR_SHUTDOWN_DRAIN"))
	if err != nil {
		t.Fatalf("the ConfigMap's KARIGAR_SHUTDOWN_DRAIN: %v", err)
	}
	pod := get(dep, "spec", "template", "spec")
	for _, c := range getList(pod, "containers") {
		probe := getMap(c, "readinessProbe")
		period, _ := probe["periodSeconds"].(int)
		failures, _ := probe["failureThreshold"].(int)
		if detect := time.Duration(period*failures) * time.Second; detect == 0 || drain < detect {
			t.Errorf("drain %v is shorter than the readiness probe's %v to notice", drain, detect)
		}
	}
	grace, _ := get(pod, "terminationGracePeriodSeconds").(int)
	if need := drain + 20*time.Second; time.Duration(grace)*time.Second <= need {
		t.Errorf("terminationGracePeriodSeconds %d does not cover the drain and the shutdown (%v)", grace, need)
	}
}
