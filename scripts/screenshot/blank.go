// Package screenshot checks the PNGs that scripts/screenshot.sh renders, and
// its test runs that script in a real headless Chromium.
package screenshot

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
)

// Thresholds of [Stats.NotBlank]. A rendered report is text and charts on a
// plain background: far more than 0.5% of its pixels differ from the
// background, in many shades (anti-aliasing alone makes dozens). A blank, a
// single-colour or a nearly empty page does not pass.
const (
	// MinInkFraction is the least fraction (0..1) of pixels that must differ
	// from the background colour.
	MinInkFraction = 0.005
	// MinColors is the least number of distinct colours.
	MinColors = 4
)

// Stats describes a decoded image.
type Stats struct {
	Width, Height int
	// Background is the most common colour, as 8-bit RGBA.
	Background color.RGBA
	// Ink is the fraction (0..1) of pixels whose colour is not Background.
	Ink float64
	// Colors is the number of distinct colours.
	Colors int
}

// Inspect decodes a PNG and counts its colours.
func Inspect(r io.Reader) (Stats, error) {
	img, err := png.Decode(r)
	if err != nil {
		return Stats{}, fmt.Errorf("decode png: %w", err)
	}
	return inspect(img), nil
}

func inspect(img image.Image) Stats {
	b := img.Bounds()
	counts := make(map[color.RGBA]int)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	s := Stats{Width: b.Dx(), Height: b.Dy(), Colors: len(counts)}
	most := 0
	for c, n := range counts {
		if n > most {
			most, s.Background = n, c
		}
	}
	if total := s.Width * s.Height; total > 0 {
		s.Ink = float64(total-most) / float64(total)
	}
	return s
}

// NotBlank returns an error unless the image has at least [MinColors]
// colours and at least [MinInkFraction] of its pixels off the background.
func (s Stats) NotBlank() error {
	if s.Colors < MinColors || s.Ink < MinInkFraction {
		return fmt.Errorf("image %dx%d looks blank: %d colours (want >= %d), %.2f%% of pixels off the background %v (want >= %.2f%%)",
			s.Width, s.Height, s.Colors, MinColors, 100*s.Ink, s.Background, 100*MinInkFraction)
	}
	return nil
}
