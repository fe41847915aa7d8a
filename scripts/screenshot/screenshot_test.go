package screenshot_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/planrun/planrun/scripts/screenshot"
)

func TestNotBlank(t *testing.T) {
	white := color.RGBA{255, 255, 255, 255}
	tests := []struct {
		name      string
		draw      func(img *image.RGBA)
		wantBlank bool
	}{
		{name: "all white", draw: func(*image.RGBA) {}, wantBlank: true},
		{name: "one black dot", draw: func(img *image.RGBA) { img.Set(5, 5, color.Black) }, wantBlank: true},
		{name: "a black band in two colours only", draw: func(img *image.RGBA) {
			fill(img, image.Rect(0, 0, 100, 20), color.Black)
		}, wantBlank: true},
		{name: "bands in four colours", draw: func(img *image.RGBA) {
			fill(img, image.Rect(0, 0, 100, 10), color.Black)
			fill(img, image.Rect(0, 10, 100, 20), color.RGBA{9, 105, 218, 255})
			fill(img, image.Rect(0, 20, 100, 30), color.RGBA{209, 36, 47, 255})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := image.NewRGBA(image.Rect(0, 0, 100, 100))
			fill(img, img.Bounds(), white)
			tt.draw(img)
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			stats, err := screenshot.Inspect(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if stats.Background != white {
				t.Errorf("background %v, want white", stats.Background)
			}
			err = stats.NotBlank()
			if gotBlank := err != nil; gotBlank != tt.wantBlank {
				t.Errorf("NotBlank() = %v, want blank %v (stats %+v)", err, tt.wantBlank, stats)
			}
		})
	}
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Set(x, y, c)
		}
	}
}

// script is scripts/screenshot.sh, relative to this package's directory.
const script = "../screenshot.sh"

// TestScreenshot renders fixtures with scripts/screenshot.sh in a real
// headless Chromium. It skips when chromium, go or npm is missing, or when
// mermaid cannot be fetched into the cache (no registry access).
func TestScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	for _, tool := range []string{"chromium", "go", "npm", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian: apt-get install -y chromium npm): %v", tool, err)
		}
	}
	if out, code := run(t, script, "--fetch-mermaid"); code == 3 {
		t.Skipf("mermaid is not in the cache and cannot be fetched:\n%s", out)
	} else if code != 0 {
		t.Fatalf("screenshot.sh --fetch-mermaid: exit %d\n%s", code, out)
	}

	t.Run("markdown with a mermaid xychart", func(t *testing.T) {
		png, dom := shoot(t, "testdata/xychart.md")
		if !regexp.MustCompile(`<html[^>]* data-mermaid="ok"`).MatchString(dom) {
			t.Errorf("the page does not report data-mermaid=\"ok\" on <html>")
		}
		// mermaid replaces the fence's text with the chart it drew.
		chart := regexp.MustCompile(`(?s)<pre class="mermaid"[^>]*>\s*<svg[^>]*aria-roledescription="xychart"`)
		if !chart.MatchString(dom) {
			t.Errorf("no xychart <svg> inside <pre class=\"mermaid\"> in the rendered DOM")
		}
		checkNotBlank(t, png)
	})

	t.Run("markdown with a chart mermaid cannot parse", func(t *testing.T) {
		out, code := run(t, script, "testdata/broken-chart.md", filepath.Join(t.TempDir(), "broken.png"))
		if code != 1 {
			t.Fatalf("exit %d, want 1 (rendering failed)\n%s", code, out)
		}
		if !bytes.Contains(out, []byte("mermaid could not render a chart")) {
			t.Errorf("output does not say mermaid failed:\n%s", out)
		}
	})

	t.Run("html with an inline svg", func(t *testing.T) {
		png, dom := shoot(t, "testdata/inline-svg.html")
		stats := checkNotBlank(t, png)
		// The page is 2400 px tall: the measured full height, not one window.
		m := regexp.MustCompile(`data-shot-height="(\d+)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("the measuring script left no data-shot-height in the DOM")
		}
		want, _ := strconv.Atoi(m[1])
		if want < 2400 || stats.Width != 1280 || stats.Height != want {
			t.Errorf("png %dx%d, want 1280x%s (page measured %d px, at least 2400)", stats.Width, stats.Height, m[1], want)
		}
	})
}

// shoot renders one fixture, logs how long it took, and returns the PNG's
// path and the rendered DOM.
func shoot(t *testing.T, fixture string) (pngPath, dom string) {
	t.Helper()
	dir := t.TempDir()
	pngPath = filepath.Join(dir, "out.png")
	domPath := filepath.Join(dir, "dom.html")
	start := time.Now()
	out, code := run(t, "env", "SCREENSHOT_DOM="+domPath, "bash", script, fixture, pngPath)
	if code != 0 {
		t.Fatalf("screenshot.sh %s: exit %d\n%s", fixture, code, out)
	}
	t.Logf("%s: %s in %v", fixture, bytes.TrimSpace(out), time.Since(start).Round(time.Millisecond))
	b, err := os.ReadFile(domPath)
	if err != nil {
		t.Fatal(err)
	}
	return pngPath, string(b)
}

func checkNotBlank(t *testing.T, path string) screenshot.Stats {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stats, err := screenshot.Inspect(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := stats.NotBlank(); err != nil {
		t.Error(err)
	}
	t.Logf("%s: %dx%d, %d colours, %.1f%% ink", filepath.Base(path), stats.Width, stats.Height, stats.Colors, 100*stats.Ink)
	return stats
}

// run runs a command with a generous timeout (two browser starts on a busy
// machine) and returns its combined output and exit code.
func run(t *testing.T, name string, args ...string) ([]byte, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if name == script {
		name, args = "bash", append([]string{script}, args...)
	}
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &exit):
		return out, exit.ExitCode()
	default:
		t.Fatalf("%s: %v", name, err)
		return nil, 0
	}
}
