//go:build ignore

// md2html turns a markdown report into the page scripts/screenshot.sh
// screenshots: goldmark renders the markdown as GitHub does (CommonMark with
// the GFM extensions, raw HTML such as <details> kept), every ```mermaid
// fence becomes <pre class="mermaid"> for mermaid.run, and the result is put
// into page.html.
//
// It is a build-ignored program, run with `go run`, because goldmark is a
// test-only dependency of planrun: no package of the module imports it.
//
// Usage:
//
//	go run scripts/screenshot/md2html.go TEMPLATE.html REPORT.md OUT.html
package main

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"regexp"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// mermaidFence matches goldmark's rendering of a ```mermaid fence. Its
// content is HTML-escaped, so it cannot contain "</code>"; mermaid reads the
// element's text, in which the escapes are decoded again.
var mermaidFence = regexp.MustCompile(`(?s)<pre><code class="language-mermaid">(.*?)</code></pre>`)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go run md2html.go TEMPLATE.html REPORT.md OUT.html")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "md2html:", err)
		os.Exit(1)
	}
}

func run(templatePath, mdPath, outPath string) error {
	page, err := template.ParseFiles(templatePath)
	if err != nil {
		return fmt.Errorf("read the page template: %w", err)
	}
	md, err := os.ReadFile(mdPath)
	if err != nil {
		return fmt.Errorf("read the markdown: %w", err)
	}
	gfm := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		// The report is planrun's own output, and GitHub keeps the <details>
		// folds it writes: keep raw HTML as GitHub does.
		goldmark.WithRendererOptions(html.WithUnsafe()),
	)
	var body bytes.Buffer
	if err := gfm.Convert(md, &body); err != nil {
		return fmt.Errorf("render %s: %w", mdPath, err)
	}
	charts := mermaidFence.ReplaceAll(body.Bytes(), []byte(`<pre class="mermaid">$1</pre>`))

	var out bytes.Buffer
	err = page.Execute(&out, struct {
		Title string
		Body  template.HTML
	}{Title: filepath.Base(mdPath), Body: template.HTML(charts)})
	if err != nil {
		return fmt.Errorf("fill the page template: %w", err)
	}
	if err := os.WriteFile(outPath, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the page: %w", err)
	}
	return nil
}
