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
	"net"
	"os"
	"path/filepath"
	"regexp"
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
// flight; a preStop sleep, if any, comes before the SIGTERM. The drain must
// outlast the readiness probe's detection (period × failure threshold), and
// the grace period must cover the preStop sleep, the drain and those 20 s, or
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
	var preStop time.Duration
	for _, c := range getList(pod, "containers") {
		probe := getMap(c, "readinessProbe")
		period, _ := probe["periodSeconds"].(int)
		failures, _ := probe["failureThreshold"].(int)
		if detect := time.Duration(period*failures) * time.Second; detect == 0 || drain < detect {
			t.Errorf("drain %v is shorter than the readiness probe's %v to notice", drain, detect)
		}
		if hook := getMap(c, "lifecycle", "preStop"); hook != nil {
			// distroless has no shell or sleep binary: only the kubelet's
			// own sleep action can run.
			secs, ok := get(hook, "sleep", "seconds").(int)
			if !ok || secs <= 0 {
				t.Errorf("container %q: preStop %v, want sleep.seconds > 0 (the image has no shell for exec)", getString(c, "name"), hook)
			}
			preStop = max(preStop, time.Duration(secs)*time.Second)
		}
	}
	grace, _ := get(pod, "terminationGracePeriodSeconds").(int)
	if need := preStop + drain + 20*time.Second; time.Duration(grace)*time.Second <= need {
		t.Errorf("terminationGracePeriodSeconds %d does not cover the preStop sleep, the drain and the shutdown (%v)", grace, need)
	}
}

// findAll returns every document of the given kind across all manifests.
func findAll(byFile map[string][]map[string]any, kind string) []map[string]any {
	var found []map[string]any
	for _, docs := range byFile {
		for _, d := range docs {
			if getString(d, "kind") == kind {
				found = append(found, d)
			}
		}
	}
	return found
}

// podTemplates returns the pod templates of the Deployment and the Job.
func podTemplates(t *testing.T, byFile map[string][]map[string]any) map[string]map[string]any {
	t.Helper()
	return map[string]map[string]any{
		"Deployment": getMap(findKind(t, byFile, "Deployment"), "spec", "template"),
		"Job":        getMap(findKind(t, byFile, "Job"), "spec", "template"),
	}
}

// releaseTag is the image tag pinned in kustomization.yaml.
func releaseTag(t *testing.T, byFile map[string][]map[string]any) string {
	t.Helper()
	for _, img := range getList(byFile["kustomization.yaml"][0], "images") {
		if getString(img, "name") == "ghcr.io/karigar/karigar" {
			return getString(img, "newTag")
		}
	}
	t.Fatal("kustomization.yaml: no images entry for ghcr.io/karigar/karigar")
	return ""
}

var semver = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// A pinned release, the same everywhere: kustomize's images override
// rewrites the tag, but the raw files are applied on their own too.
func TestK8sImagesArePinned(t *testing.T) {
	dir, byFile := k8sManifests(t)
	tag := releaseTag(t, byFile)
	if !semver.MatchString(tag) {
		t.Errorf("kustomization.yaml newTag %q, want a release such as v1.2.3", tag)
	}
	for kind, tmpl := range podTemplates(t, byFile) {
		for _, c := range getList(tmpl, "spec", "containers") {
			image := getString(c, "image")
			_, got, ok := strings.Cut(image, ":")
			if !ok || got != tag {
				t.Errorf("%s container %q: image %q, want tag %s", kind, getString(c, "name"), image, tag)
			}
		}
	}
	// No `latest` outside comments, in any manifest.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext != ".yaml" && ext != ".yml" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			code, _, _ := strings.Cut(line, "#")
			if strings.Contains(code, "latest") {
				t.Errorf("%s:%d: %s", e.Name(), i+1, strings.TrimSpace(line))
			}
		}
	}
}

// One Job per release, so a new release never collides with the previous,
// immutable Job: its name carries the version (or it uses generateName),
// and finished Jobs are cleaned up.
func TestK8sMigrationJobPerRelease(t *testing.T) {
	_, byFile := k8sManifests(t)
	job := findKind(t, byFile, "Job")
	tag := releaseTag(t, byFile)
	if getString(job, "metadata", "generateName") == "" {
		want := "karigar-migrate-" + strings.ReplaceAll(tag, ".", "-")
		if got := getString(job, "metadata", "name"); got != want {
			t.Errorf("Job name %q, want %q for release %s (deployments/k8s/release.sh renames it)", got, want, tag)
		}
	}
	if got := getString(job, "metadata", "labels", "app.kubernetes.io/version"); got != tag {
		t.Errorf("Job label app.kubernetes.io/version = %q, want %s", got, tag)
	}
	if ttl, _ := get(job, "spec", "ttlSecondsAfterFinished").(int); ttl <= 0 {
		t.Error("Job has no ttlSecondsAfterFinished: finished Jobs would pile up, one per release")
	}
	if args := getList(job, "spec", "template", "spec", "containers")[0].(map[string]any)["args"]; fmt.Sprint(args) != "[migrate]" {
		t.Errorf("Job args %v, want [migrate]", args)
	}
}

// Two or more replicas are spread over nodes and zones, counting the API
// pods only.
func TestK8sTopologySpread(t *testing.T) {
	_, byFile := k8sManifests(t)
	dep := findKind(t, byFile, "Deployment")
	hpa := findKind(t, byFile, "HorizontalPodAutoscaler")
	replicas, _ := get(dep, "spec", "replicas").(int)
	minReplicas, _ := get(hpa, "spec", "minReplicas").(int)
	if replicas < 2 || minReplicas < 2 {
		t.Errorf("replicas %d, HPA minReplicas %d: want at least 2", replicas, minReplicas)
	}
	keys := map[string]string{}
	for _, c := range getList(dep, "spec", "template", "spec", "topologySpreadConstraints") {
		key := getString(c, "topologyKey")
		keys[key] = getString(c, "whenUnsatisfiable")
		if skew, _ := get(c, "maxSkew").(int); skew != 1 {
			t.Errorf("spread over %s: maxSkew %v, want 1", key, get(c, "maxSkew"))
		}
		assertSelectsPods(t, "spread over "+key+" labelSelector", getMap(c, "labelSelector", "matchLabels"), dep)
	}
	if keys["kubernetes.io/hostname"] != "DoNotSchedule" {
		t.Errorf("spread over nodes: %q, want a hard (DoNotSchedule) constraint on kubernetes.io/hostname", keys["kubernetes.io/hostname"])
	}
	if keys["topology.kubernetes.io/zone"] == "" {
		t.Error("no spread over topology.kubernetes.io/zone")
	}

	// The PDB must let a drain evict one pod of the smallest deployment.
	pdb := findKind(t, byFile, "PodDisruptionBudget")
	if minAvail, ok := get(pdb, "spec", "minAvailable").(int); !ok || minAvail >= minReplicas {
		t.Errorf("PodDisruptionBudget minAvailable %v with %d replicas: want a number below the replicas", get(pdb, "spec", "minAvailable"), minReplicas)
	}
}

// selects reports whether a NetworkPolicy's podSelector picks the template's pods.
func selects(policy, tmpl map[string]any) bool {
	sel := getMap(policy, "spec", "podSelector", "matchLabels")
	if len(sel) == 0 {
		return false
	}
	labels := getMap(tmpl, "metadata", "labels")
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func portsOf(rule any) []string {
	var ports []string
	for _, p := range getList(rule, "ports") {
		ports = append(ports, fmt.Sprintf("%v/%v", get(p, "protocol"), get(p, "port")))
	}
	return ports
}

// Every pod is under a NetworkPolicy that denies by default: in only from the
// ingress controller to the API port, out only to DNS, PostgreSQL and HTTPS
// outside the cluster.
func TestK8sNetworkPolicy(t *testing.T) {
	_, byFile := k8sManifests(t)
	policies := findAll(byFile, "NetworkPolicy")
	for kind, tmpl := range podTemplates(t, byFile) {
		var mine []map[string]any
		for _, p := range policies {
			if selects(p, tmpl) {
				mine = append(mine, p)
			}
		}
		if len(mine) != 1 {
			t.Errorf("%s pods: %d NetworkPolicies select them, want 1", kind, len(mine))
			continue
		}
		pol := mine[0]
		name := getString(pol, "metadata", "name")
		var types []string
		for _, ty := range getList(pol, "spec", "policyTypes") {
			types = append(types, fmt.Sprint(ty))
		}
		slices.Sort(types)
		if !slices.Equal(types, []string{"Egress", "Ingress"}) {
			t.Errorf("NetworkPolicy %s: policyTypes %v, want Ingress and Egress", name, types)
		}

		ingress := getList(pol, "spec", "ingress")
		if kind == "Job" && len(ingress) > 0 {
			t.Errorf("NetworkPolicy %s lets traffic into the migration Job: %v", name, ingress)
		}
		if kind == "Deployment" && len(ingress) == 0 {
			t.Errorf("NetworkPolicy %s lets nothing in, not even the ingress controller", name)
		}
		for i, rule := range ingress {
			if ports := portsOf(rule); !slices.Equal(ports, []string{"TCP/8080"}) {
				t.Errorf("NetworkPolicy %s ingress %d: ports %v, want only TCP/8080", name, i, ports)
			}
			from := getList(rule, "from")
			if len(from) == 0 {
				t.Errorf("NetworkPolicy %s ingress %d: from anywhere", name, i)
			}
			for _, peer := range from {
				if getMap(peer, "ipBlock") != nil || getMap(peer, "namespaceSelector", "matchLabels") == nil || getMap(peer, "podSelector", "matchLabels") == nil {
					t.Errorf("NetworkPolicy %s ingress %d: peer %v, want the ingress controller's pods in its namespace", name, i, peer)
				}
			}
		}

		var allPorts []string
		for i, rule := range getList(pol, "spec", "egress") {
			ports := portsOf(rule)
			if len(ports) == 0 {
				t.Errorf("NetworkPolicy %s egress %d: every port allowed", name, i)
			}
			allPorts = append(allPorts, ports...)
			to := getList(rule, "to")
			if len(to) == 0 {
				t.Errorf("NetworkPolicy %s egress %d: to anywhere", name, i)
			}
			for _, peer := range to {
				cidr := getString(peer, "ipBlock", "cidr")
				if cidr != "0.0.0.0/0" {
					continue
				}
				// The public internet: HTTPS only, and never the cluster,
				// private ranges or the metadata service.
				if !slices.Equal(ports, []string{"TCP/443"}) {
					t.Errorf("NetworkPolicy %s egress %d: 0.0.0.0/0 on %v, want TCP/443 only", name, i, ports)
				}
				var except []string
				for _, e := range getList(peer, "ipBlock", "except") {
					except = append(except, fmt.Sprint(e))
				}
				for _, private := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} {
					if !slices.Contains(except, private) {
						t.Errorf("NetworkPolicy %s egress %d: 0.0.0.0/0 does not except %s", name, i, private)
					}
				}
				if kind == "Job" {
					t.Errorf("NetworkPolicy %s: the migration Job needs no internet", name)
				}
			}
		}
		want := []string{"UDP/53", "TCP/53", "TCP/5432"}
		if kind == "Deployment" {
			want = append(want, "TCP/443")
		}
		for _, w := range want {
			if !slices.Contains(allPorts, w) {
				t.Errorf("NetworkPolicy %s: no egress on %s", name, w)
			}
		}
	}
}

// The Ingress terminates TLS for its hosts, sends them to the Service, and
// refuses bodies over the API's own limit at the edge.
func TestK8sIngress(t *testing.T) {
	root := repoRoot(t)
	_, byFile := k8sManifests(t)
	ing := findKind(t, byFile, "Ingress")
	svc := findKind(t, byFile, "Service")
	var tlsHosts []string
	for _, tls := range getList(ing, "spec", "tls") {
		if getString(tls, "secretName") == "" {
			t.Errorf("Ingress tls entry %v has no secretName", tls)
		}
		for _, h := range getList(tls, "hosts") {
			tlsHosts = append(tlsHosts, fmt.Sprint(h))
		}
	}
	rules := getList(ing, "spec", "rules")
	if len(rules) == 0 {
		t.Fatal("Ingress has no rules")
	}
	for _, r := range rules {
		host := getString(r, "host")
		if !slices.Contains(tlsHosts, host) {
			t.Errorf("Ingress host %q is not covered by tls (hosts %v)", host, tlsHosts)
		}
		for _, p := range getList(r, "http", "paths") {
			if got := getString(p, "backend", "service", "name"); got != getString(svc, "metadata", "name") {
				t.Errorf("Ingress backend %q is not the Service", got)
			}
			port := getString(p, "backend", "service", "port", "name")
			found := false
			for _, sp := range getList(svc, "spec", "ports") {
				found = found || getString(sp, "name") == port
			}
			if !found {
				t.Errorf("Ingress backend port %q is not a named Service port", port)
			}
		}
	}
	// The API's limit, read from its source so the two cannot drift apart.
	src, err := os.ReadFile(filepath.Join(root, "api", "middleware.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`maxBodyBytes\s*=\s*1 << 20\b`).Match(src) {
		t.Error("api/middleware.go's maxBodyBytes is no longer 1 << 20: update the Ingress's proxy-body-size")
	}
	if got := getString(ing, "metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-body-size"); got != "1m" {
		t.Errorf("Ingress proxy-body-size %q, want 1m (the API's 1 MiB)", got)
	}
	// The ConfigMap's public URL is this host.
	cm := findKind(t, byFile, "ConfigMap")
	if u := getString(cm, "data", "KARIGAR_PUBLIC_URL"); u != "https://"+getString(rules[0], "host") {
		t.Errorf("KARIGAR_PUBLIC_URL %q is not https:// + the Ingress host %q", u, getString(rules[0], "host"))
	}
}

// Only the ingress controller's X-Forwarded-For is believed: each trusted
// proxy is an address or a range no wider than a /16, never the whole
// private 10.0.0.0/8 (any pod could then claim any client address and dodge
// the login rate limit).
func TestK8sTrustedProxiesAreNarrow(t *testing.T) {
	_, byFile := k8sManifests(t)
	cm := findKind(t, byFile, "ConfigMap")
	raw := getString(cm, "data", "KARIGAR_TRUSTED_PROXIES")
	if strings.TrimSpace(raw) == "" {
		t.Fatal("KARIGAR_TRUSTED_PROXIES is empty: behind the ingress, all clients would share one login limit")
	}
	for _, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		if ip := net.ParseIP(entry); ip != nil {
			continue
		}
		_, n, err := net.ParseCIDR(entry)
		if err != nil {
			t.Errorf("KARIGAR_TRUSTED_PROXIES entry %q: %v", entry, err)
			continue
		}
		ones, bits := n.Mask.Size()
		if (bits == 32 && ones < 16) || (bits == 128 && ones < 48) {
			t.Errorf("KARIGAR_TRUSTED_PROXIES entry %q is wider than the ingress controller's pods", entry)
		}
	}
}
