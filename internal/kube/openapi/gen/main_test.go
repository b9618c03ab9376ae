package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"
)

// TestEmbeddedSchemasUpToDate checks that ../schemas.json.gz is what this
// generator writes from the pinned k8s.io/kubernetes: regenerate it with
// `go run . -o ../schemas.json.gz` after changing the version.
func TestEmbeddedSchemasUpToDate(t *testing.T) {
	want, err := build()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../schemas.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gunzip(t, got), gunzip(t, want)) {
		t.Fatal("../schemas.json.gz is out of date: run `go run . -o ../schemas.json.gz` in internal/kube/openapi/gen")
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
