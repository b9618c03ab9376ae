package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// readmeBlock returns the fenced block of lang that follows the first
// README line containing after.
func readmeBlock(t *testing.T, after, lang string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, after)
	if i < 0 {
		t.Fatalf("README has no %q", after)
	}
	s = s[i:]
	start := strings.Index(s, "```"+lang+"\n")
	if start < 0 {
		t.Fatalf("no ```%s block after %q", lang, after)
	}
	s = s[start+len("```"+lang+"\n"):]
	end := strings.Index(s, "```")
	if end < 0 {
		t.Fatalf("unterminated block after %q", after)
	}
	return s[:end]
}

// recipeShell runs a shell script with stratus (the test build) first on
// PATH, in dir, and returns its output.
func recipeShell(t *testing.T, dir, script string, extraEnv ...string) string {
	t.Helper()
	bin := t.TempDir()
	if err := os.Symlink(stratusBinary(t), filepath.Join(bin, "stratus")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + dir}, extraEnv...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s\n%v\n%s", script, err, out)
	}
	return string(out)
}

// TestCIRecipes runs the README's CI recipes as written: the Makefile
// target's script, the GitHub Actions job's start step (its env lines
// reach the next step: kubectl and the CloudStack keys work), and the
// container image from deploy/ (when docker is there).
func TestCIRecipes(t *testing.T) {
	kubectl := testenv.LookPath(t, "kubectl", "the kubectl binary")
	check := `kubectl get namespace default -o name && test -n "$CLOUDSTACK_API_KEY" && test -n "$CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"`
	_ = kubectl

	t.Run("make with-stratus (scripts/with-stratus)", func(t *testing.T) {
		if !strings.Contains(readmeBlock(t, "A **Makefile target**", "sh"), `make with-stratus TEST_CMD="go test ./..."`) {
			t.Fatal("the README's Makefile recipe changed; update this test")
		}
		mk, err := os.ReadFile("../../Makefile")
		if err != nil || !strings.Contains(string(mk), "./scripts/with-stratus $(TEST_CMD)") {
			t.Fatalf("the Makefile's with-stratus target does not run scripts/with-stratus: %v", err)
		}
		script, _ := filepath.Abs("../../scripts/with-stratus")
		out := recipeShell(t, t.TempDir(), `STRATUS=stratus `+script+` sh -c '`+check+`'`)
		if !strings.Contains(out, "namespace/default") {
			t.Errorf("with-stratus:\n%s", out)
		}
	})

	t.Run("GitHub Actions job", func(t *testing.T) {
		var job struct {
			Jobs map[string]struct {
				Steps []struct {
					Name string `json:"name"`
					Run  string `json:"run"`
				} `json:"steps"`
			} `json:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(readmeBlock(t, "A **GitHub Actions job**", "yaml")), &job); err != nil {
			t.Fatal(err)
		}
		var start string
		for _, s := range job.Jobs["test"].Steps {
			if s.Name == "Start stratus" {
				start = s.Run
			}
		}
		if start == "" {
			t.Fatal("the job has no step named Start stratus")
		}
		dir := t.TempDir()
		ghEnv := filepath.Join(dir, "github.env")
		recipeShell(t, dir, start, "GITHUB_ENV="+ghEnv)
		var info struct {
			DataDir string `json:"dataDir"`
		}
		b, _ := os.ReadFile(filepath.Join(dir, "stratus.json"))
		if err := json.Unmarshal(b, &info); err != nil || info.DataDir == "" {
			t.Fatalf("stratus.json: %v\n%s", err, b)
		}
		defer func() {
			if out, err := exec.Command(stratusBinary(t), "stop", "--data-dir", info.DataDir).CombinedOutput(); err != nil {
				t.Errorf("stratus stop: %v\n%s", err, out)
			}
		}()
		lines, err := os.ReadFile(ghEnv)
		if err != nil {
			t.Fatal(err)
		}
		// The next step's environment is what $GITHUB_ENV got.
		var next []string
		for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
			if !strings.Contains(l, "=") {
				t.Fatalf("a $GITHUB_ENV line that is not NAME=value: %q", l)
			}
			next = append(next, l)
		}
		if out := recipeShell(t, dir, check, next...); !strings.Contains(out, "namespace/default") {
			t.Errorf("the next step:\n%s", out)
		}
	})

	t.Run("container image", func(t *testing.T) {
		testenv.LookPath(t, "docker", "docker")
		if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
			testenv.Need(t, false, "docker does not answer: "+strings.TrimSpace(string(out)))
		}
		recipe := readmeBlock(t, "The **container image**", "sh")
		if !strings.Contains(recipe, "go test ./...") {
			t.Fatal("the README's container recipe changed; update this test")
		}
		// The recipe's paths are fixed (/tmp/stratus, the container
		// "stratus"): one run at a time on a machine.
		root, _ := filepath.Abs("../..")
		recipeShell(t, root, "deploy/build-images stratus >/dev/null", "STRATUS_BINARY="+stratusBinary(t))
		_ = exec.Command("docker", "rm", "-f", "stratus").Run()
		_ = os.RemoveAll("/tmp/stratus")
		t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", "stratus").Run(); _ = os.RemoveAll("/tmp/stratus") })
		t0 := time.Now()
		out := recipeShell(t, t.TempDir(), strings.Replace(recipe, "go test ./...", check, 1))
		if !strings.Contains(out, "namespace/default") {
			t.Errorf("the container recipe:\n%s", out)
		}
		t.Logf("container recipe: %v", time.Since(t0))
	})
}
