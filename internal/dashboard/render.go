package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// assets are the templates, style sheet and script, built into the binary.
//
//go:embed templates/*.html static/*
var assets embed.FS

// pages holds one template set per page: the layout plus the page's own
// "content" and "live" templates.
type pages struct {
	m     map[string]*template.Template
	login *template.Template
}

func parsePages() (*pages, error) {
	funcs := template.FuncMap{
		"bytesMB": humanMB,
		"join":    strings.Join,
		"add":     func(a, b int) int { return a + b },
		"sub":     func(a, b int) int { return a - b },
		"since":   func(t time.Time) string { return time.Since(t).Round(time.Second).String() },
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: parse layout: %w", err)
	}
	p := &pages{m: map[string]*template.Template{}}
	// One set per page template (templates/<name>.html).
	for _, name := range []string{"overview", "vms", "network", "jobs", "faults", "kube", "marathon", "task", "notice"} {
		t, err := template.Must(base.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: parse page %s: %w", name, err)
		}
		p.m[name] = t
	}
	p.login, err = template.New("login").Funcs(funcs).ParseFS(assets, "templates/login.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: parse login: %w", err)
	}
	return p, nil
}

// navItem is one link of the navigation bar.
type navItem struct {
	Href, Label string
	Active      bool
}

// pageData is what every page template gets.
type pageData struct {
	Title string
	View  string
	User  csUser
	CSRF  string
	Flash flash
	Nav   []navItem
	// LiveURL is the event stream that refreshes the live region ("" for none).
	LiveURL string
	// Form is data for the page's static parts (the deploy form).
	Form any
	// Data is the live region's data; Err replaces it when loading failed.
	Data any
	Err  string
}

// execute renders a template into a buffer, so a failing template writes
// nothing to the client.
func execute(t *template.Template, name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeHTML sends a rendered page.
func writeHTML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// staticHandler serves the embedded style sheet and script.
func staticHandler() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(r.URL.Path)
		switch name {
		case "app.js", "style.css", "favicon.svg":
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		files.ServeHTTP(w, r2)
	})
}

// humanMB formats megabytes for people.
func humanMB(mb int64) string {
	switch {
	case mb >= 1024*1024:
		return fmt.Sprintf("%.1f TiB", float64(mb)/(1024*1024))
	case mb >= 1024:
		return fmt.Sprintf("%.1f GiB", float64(mb)/1024)
	}
	return fmt.Sprintf("%d MiB", mb)
}
