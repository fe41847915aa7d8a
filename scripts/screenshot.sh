#!/usr/bin/env bash
# Render a planrun report in headless Chromium and save it as a PNG.
#
#   scripts/screenshot.sh [--open-details] REPORT.md   OUT.png [WIDTH [HEIGHT]]
#   scripts/screenshot.sh [--open-details] REPORT.html OUT.png [WIDTH [HEIGHT]]
#   scripts/screenshot.sh --fetch-mermaid     # fill the mermaid cache, print its path
#
# REPORT.html (planrun --format html) is rendered as it is: it is copied into
# a scratch directory, so a report that needed a file beside it, or the
# network, would show it. REPORT.md (planrun --format markdown) is turned into
# HTML the way GitHub renders it (scripts/screenshot/md2html.go, goldmark
# with GFM) inside scripts/screenshot/page.html, which runs mermaid on every
# ```mermaid fence from a local copy of mermaid.min.js; a chart mermaid cannot
# render fails the script. --open-details opens every <details> fold (they
# stay folded by default, as GitHub shows them).
#
# WIDTH is the window width in CSS px (default 1280). HEIGHT defaults to the
# page's full height, measured in a first pass (--dump-dom), at least 200 and
# at most 16000 px; a taller page is cut at 16000.
#
# Needs: Debian's chromium (apt-get install -y chromium fonts-noto-color-emoji:
# without the emoji font the report's check marks are empty boxes), and for
# markdown go and npm. mermaid is fetched once with `npm pack mermaid@$MERMAID_VERSION`
# into ${XDG_CACHE_HOME:-~/.cache}/planrun/ (PLANRUN_CACHE_DIR overrides) and
# checked against the sha256 pinned below; it is never loaded from a CDN and
# never committed.
#
# Environment: CHROMIUM (default chromium), GO (default go), SCREENSHOT_DOM
# (a path: also save the rendered DOM there, for tests), PLANRUN_CACHE_DIR.
#
# Exit codes: 0 written; 1 rendering failed (chromium error, mermaid error,
# empty PNG); 2 usage; 3 a prerequisite is missing (chromium, go, npm, or
# mermaid could not be fetched or did not match its sha256).
set -euo pipefail

MERMAID_VERSION=12.3.0
# sha256 of package/dist/mermaid.min.js in mermaid-12.3.0.tgz.
MERMAID_SHA256=336df803d87a38b70a01e736e666c8f7601d2ce42f5e47c8fafe5d721074b9a3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHROMIUM=${CHROMIUM:-chromium}
GO=${GO:-go}
cache_dir=${PLANRUN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/planrun}/mermaid-$MERMAID_VERSION
max_height=16000
min_height=200

usage() {
	sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
missing() { echo "screenshot: $*" >&2; exit 3; }
fail() { echo "screenshot: $*" >&2; exit 1; }

# mermaid_js prints the path of the cached, verified mermaid.min.js, fetching
# it with npm first when it is not there.
mermaid_js() {
	local js=$cache_dir/mermaid.min.js
	if [[ ! -f $js ]]; then
		command -v npm >/dev/null || missing "npm not found: it fetches mermaid once (apt-get install -y npm)"
		mkdir -p "$cache_dir"
		local work
		work=$(mktemp -d "$cache_dir/fetch.XXXXXX")
		if ! (cd "$work" && npm pack --silent "mermaid@$MERMAID_VERSION" >npm.log 2>&1); then
			sed 's/^/  npm: /' "$work/npm.log" >&2 || true
			rm -rf "$work"
			missing "npm pack mermaid@$MERMAID_VERSION failed (is the npm registry reachable?)"
		fi
		tar -xzf "$work/mermaid-$MERMAID_VERSION.tgz" -C "$work" package/dist/mermaid.min.js
		mv "$work/package/dist/mermaid.min.js" "$js.tmp"
		rm -rf "$work"
		mv "$js.tmp" "$js"
	fi
	local sum
	sum=$(sha256sum "$js" | cut -d' ' -f1)
	if [[ $sum != "$MERMAID_SHA256" ]]; then
		missing "$js: sha256 $sum, want $MERMAID_SHA256 (remove it to fetch again)"
	fi
	echo "$js"
}

# browse runs headless chromium on the page with its own profile, so that
# several runs at once do not share a profile lock; extra flags first.
browse() {
	"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
		--no-first-run --no-default-browser-check --mute-audio \
		--user-data-dir="$work/profile" --virtual-time-budget=10000 \
		"$@" "file://$work/page.html$query"
}

if [[ ${1-} == --fetch-mermaid ]]; then
	[[ $# -eq 1 ]] || usage
	mermaid_js
	exit 0
fi
query=
if [[ ${1-} == --open-details ]]; then
	query='?open-details'
	shift
fi
[[ $# -ge 2 && $# -le 4 ]] || usage
in=$1 out=$2 width=${3:-1280} height=${4-}
[[ -f $in ]] || fail "$in: no such file"
abs_in=$(realpath "$in")
[[ $width =~ ^[0-9]+$ ]] || usage
[[ -z $height || $height =~ ^[0-9]+$ ]] || usage
command -v "$CHROMIUM" >/dev/null || missing "$CHROMIUM not found (apt-get install -y chromium)"

work=$(mktemp -d "${TMPDIR:-/tmp}/planrun-screenshot.XXXXXX")
trap 'rm -rf "$work"' EXIT

case $in in
*.md)
	command -v "$GO" >/dev/null || missing "$GO not found: it renders the markdown"
	js=$(mermaid_js) # an assignment: its exit code (3) stops the script
	cp "$js" "$work/mermaid.min.js"
	(cd "$here/.." && "$GO" run scripts/screenshot/md2html.go \
		scripts/screenshot/page.html "$abs_in" "$work/page.html") ||
		fail "md2html failed on $in"
	;;
*.html | *.htm)
	# The report as written, plus one script at the very end (a browser puts
	# content after </html> into the body) that opens the folds when asked
	# and records the page's full height once it has loaded.
	{
		cat "$in"
		cat <<-'EOF'

			<script>
			addEventListener("load", function () {
			  if (location.search.indexOf("open-details") >= 0) {
			    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
			  }
			  setTimeout(function () {
			    var r = document.documentElement;
			    r.dataset.shotHeight = String(Math.ceil(r.scrollHeight));
			  }, 500);
			});
			</script>
		EOF
	} >"$work/page.html"
	;;
*) fail "$in: want a .md or .html report" ;;
esac

# Pass 1: let the page run (mermaid, the measuring script) and read the DOM.
browse --window-size="$width,1000" --dump-dom >"$work/dom.html" 2>"$work/chromium.log" ||
	{ tail -n 20 "$work/chromium.log" >&2; fail "chromium --dump-dom failed on $in"; }
[[ -s $work/dom.html ]] || { tail -n 20 "$work/chromium.log" >&2; fail "chromium printed no DOM for $in"; }
if [[ -n ${SCREENSHOT_DOM-} ]]; then cp "$work/dom.html" "$SCREENSHOT_DOM"; fi
if [[ $in == *.md ]]; then
	status=$(grep -o -m1 'data-mermaid="[a-z]*"' "$work/dom.html" | cut -d'"' -f2 || true)
	case $status in
	ok | none) ;;
	error) fail "$in: mermaid could not render a chart: $(tr '\n' ' ' <"$work/dom.html" | grep -o -m1 'class="mermaid-error">[^<]*' | cut -d'>' -f2-)" ;;
	*) fail "$in: the page never finished running mermaid (no data-mermaid on <html>)" ;;
	esac
fi
if [[ -z $height ]]; then
	height=$(grep -o -m1 'data-shot-height="[0-9]*"' "$work/dom.html" | cut -d'"' -f2 || true)
	height=${height:-4000}
	if ((height < min_height)); then height=$min_height; fi
	if ((height > max_height)); then height=$max_height; fi
fi

# Pass 2: the screenshot, the window as tall as the page.
mkdir -p "$(dirname "$out")"
abs_out=$(realpath "$out")
rm -f "$abs_out"
browse --window-size="$width,$height" --screenshot="$abs_out" >>"$work/chromium.log" 2>&1 ||
	{ tail -n 20 "$work/chromium.log" >&2; fail "chromium --screenshot failed on $in"; }
[[ -s $abs_out ]] || { tail -n 20 "$work/chromium.log" >&2; fail "chromium wrote no PNG for $in"; }
echo "screenshot: $out (${width}x${height})"
