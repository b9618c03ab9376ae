package compose

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: any bytes as a compose file either load and convert, or give
// an error; never a panic. The seeds are the test files.
func FuzzLoad(f *testing.F) {
	for _, g := range []string{"testdata/*/*.yml", "testdata/*/*.yaml"} {
		files, _ := filepath.Glob(g)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("a:\n  image: x\n  net: container:b\nb:\n  image: y\n  dockerfile: D\n  log_opt: {a: b}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		file := filepath.Join(dir, "compose.yaml")
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(context.Background(), LoadOptions{Files: []string{file}, ProjectName: "fuzz"})
		if err != nil {
			return
		}
		if _, err := Convert(p, ConvertOptions{}); err != nil {
			t.Fatalf("Load accepted what Convert rejects: %v", err)
		}
	})
}
