// Package markdowntest reads markdown the way GitHub renders it, for tests
// that must prove that text from a plan, a server or a report file never
// turns into HTML: it parses with goldmark (CommonMark with the GFM
// extensions: tables, autolinks, strikethrough, task lists).
//
// goldmark is a test-only dependency of planrun: only tests import this
// package, and the planrun binary never links it.
package markdowntest

import (
	"bytes"
	"html"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// Doc is what a reader of a markdown document gets.
type Doc struct {
	// HTML holds every raw HTML block and inline HTML element, as written.
	HTML []string
	// Code holds the content of every code span, as displayed.
	Code []string
	// Visible is the rendered document's text: tags removed, entities decoded.
	Visible string
}

var gfm = goldmark.New(goldmark.WithExtensions(extension.GFM))

// tag matches an HTML tag in goldmark's output, where text has every "<"
// escaped.
var tag = regexp.MustCompile(`<[^>]*>`)

// Parse reads md as GitHub would.
func Parse(md string) (Doc, error) {
	src := []byte(md)
	root := gfm.Parser().Parse(text.NewReader(src))
	var d Doc
	err := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.HTMLBlock:
			var b strings.Builder
			for i := range n.Lines().Len() {
				line := n.Lines().At(i)
				b.Write(line.Value(src))
			}
			if n.HasClosure() {
				b.Write(n.ClosureLine.Value(src))
			}
			d.HTML = append(d.HTML, b.String())
		case *ast.RawHTML:
			var b strings.Builder
			for i := range n.Segments.Len() {
				seg := n.Segments.At(i)
				b.Write(seg.Value(src))
			}
			d.HTML = append(d.HTML, b.String())
		case *ast.CodeSpan:
			var b strings.Builder
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				switch c := c.(type) {
				case *ast.Text:
					b.Write(c.Value(src))
				case *ast.String:
					b.Write(c.Value)
				}
			}
			d.Code = append(d.Code, b.String())
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		return d, err
	}
	var out bytes.Buffer
	if err := gfm.Renderer().Render(&out, src, root); err != nil {
		return d, err
	}
	d.Visible = html.UnescapeString(tag.ReplaceAllString(out.String(), ""))
	return d, nil
}
